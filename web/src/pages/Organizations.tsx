// All organisations (the admin's view), and creating one.
import { type FormEvent, useState } from 'react';
import { Link } from 'wouter';
import type { ColumnDef } from '@tanstack/react-table';
import { type Organization, api } from '../api';
import { DataTable } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatDateTime, useT } from '../i18n';
import { useLoad } from '../useLoad';

export function Organizations() {
  const { t, language } = useT();
  const orgs = useLoad(() => api.get<{ organizations: Organization[] }>('/organizations').then((r) => r.organizations), []);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.post('/organizations', { name });
      setName('');
      setError(undefined);
      await orgs.reload();
    } catch (err) {
      setError(err);
    }
  };
  const columns: ColumnDef<Organization>[] = [
    { header: t('orgs.name'), accessorKey: 'name', cell: (c) => <Link href={`/organizations/${c.row.original.id}`}>{c.row.original.name}</Link> },
    { header: t('orgs.plan'), accessorKey: 'plan' },
    { header: t('orgs.scim'), cell: (c) => (c.row.original.scimAllowed ? t('common.yes') : t('orgs.notInPlan')) },
    { header: t('common.created'), cell: (c) => formatDateTime(c.row.original.createdAt, language) },
  ];
  return (
    <main>
      <h1>{t('orgs.title')}</h1>
      <ErrorNotice error={orgs.error} />
      <DataTable columns={columns} data={orgs.value ?? []} caption={t('orgs.title')} empty={orgs.loading ? t('common.loading') : t('orgs.none')} />
      <form className="inline" onSubmit={(e) => void create(e)}>
        <h2>{t('orgs.create')}</h2>
        <label htmlFor="org-name">{t('orgs.name')}</label>
        <input id="org-name" required value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit">{t('orgs.createButton')}</button>
      </form>
      <ErrorNotice error={error} />
    </main>
  );
}
