// A connection's users: search, state filter, newest first by cursor pages (fast at any depth).
import { useState } from 'react';
import { Link } from 'wouter';
import type { ColumnDef } from '@tanstack/react-table';
import { type User, api, query } from '../api';
import { DataTable } from '../components/DataTable';
import { Pager, useCursorPages } from '../components/Pager';
import { ErrorNotice } from '../components/ErrorNotice';
import { formatDateTime, useT } from '../i18n';
import { useLoad } from '../useLoad';
import { ConnectionHeader, ConnectionTabs, useConnection } from './Connection';

export function Users({ id }: { id: string }) {
  const { t, language } = useT();
  const conn = useConnection(id);
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [state, setState] = useState('');
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const page = useLoad(
    () => api.get<{ users: User[]; next: string | null }>(`/connections/${id}/users${query({ search: applied, state, cursor, limit: 50 })}`),
    [id, applied, state, cursor],
  );
  const columns: ColumnDef<User>[] = [
    { header: t('users.userName'), cell: (c) => <Link href={`/users/${c.row.original.id}`}>{c.row.original.userName}</Link> },
    { header: t('users.displayName'), cell: (c) => c.row.original.displayName ?? '—' },
    { header: t('users.state'), cell: (c) => <span className={`badge ${c.row.original.state}`}>{t(`state.${c.row.original.state}`)}</span> },
    { header: t('users.groups'), cell: (c) => c.row.original.groups.map((g) => g.displayName).join(', ') || '—' },
    { header: t('common.created'), cell: (c) => formatDateTime(c.row.original.createdAt, language) },
  ];
  return (
    <main>
      <ConnectionHeader conn={conn.value} />
      <ConnectionTabs id={id} current="users" />
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          pages.reset();
          setApplied(search.trim());
        }}
      >
        <label htmlFor="user-search">{t('users.search')}</label>
        <input id="user-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        <label htmlFor="user-state">{t('users.state')}</label>
        <select
          id="user-state"
          value={state}
          onChange={(e) => {
            pages.reset();
            setState(e.target.value);
          }}
        >
          <option value="">{t('users.allStates')}</option>
          <option value="active">{t('state.active')}</option>
          <option value="deactivated">{t('state.deactivated')}</option>
          <option value="deleted">{t('state.deletedRestorable')}</option>
        </select>
        <button type="submit">{t('users.find')}</button>
      </form>
      <ErrorNotice error={page.error} />
      <DataTable columns={columns} data={page.value?.users ?? []} caption={t('conn.tab.users')} empty={page.loading ? t('common.loading') : t('users.none')} />
      <Pager pages={pages} next={page.value?.next} />
    </main>
  );
}
