// A connection's groups with their member counts.
import { useState } from 'react';
import type { ColumnDef } from '@tanstack/react-table';
import { type Group, api, query } from '../api';
import { DataTable } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatDateTime, formatNumber, useT } from '../i18n';
import { useLoad } from '../useLoad';
import { ConnectionHeader, ConnectionTabs, useConnection } from './Connection';
import { Pager, useCursorPages } from '../components/Pager';

export function Groups({ id }: { id: string }) {
  const { t, language } = useT();
  const conn = useConnection(id);
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const page = useLoad(() => api.get<{ groups: Group[]; next: string | null }>(`/connections/${id}/groups${query({ search: applied, cursor, limit: 50 })}`), [id, applied, cursor]);
  const columns: ColumnDef<Group>[] = [
    { header: t('groups.name'), accessorKey: 'displayName' },
    { header: t('groups.members'), cell: (c) => formatNumber(c.row.original.memberCount, language) },
    { header: t('groups.externalId'), cell: (c) => c.row.original.externalId ?? '—' },
    { header: t('common.updated'), cell: (c) => formatDateTime(c.row.original.updatedAt, language) },
  ];
  return (
    <main>
      <ConnectionHeader conn={conn.value} />
      <ConnectionTabs id={id} current="groups" />
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          pages.reset();
          setApplied(search.trim());
        }}
      >
        <label htmlFor="group-search">{t('groups.search')}</label>
        <input id="group-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        <button type="submit">{t('users.find')}</button>
      </form>
      <ErrorNotice error={page.error} />
      <DataTable columns={columns} data={page.value?.groups ?? []} caption={t('conn.tab.groups')} empty={page.loading ? t('common.loading') : t('groups.none')} />
      <Pager pages={pages} next={page.value?.next} />
    </main>
  );
}
