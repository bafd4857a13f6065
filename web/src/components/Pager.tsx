// Newest-first cursor pages: the cursors walked so far, so "Newer" goes back one.
import { useState } from 'react';
import { useT } from '../i18n';

export function useCursorPages() {
  const [cursors, setCursors] = useState<string[]>([]);
  return {
    /** The cursor of the page shown (undefined: the first). */
    cursor: cursors[cursors.length - 1] as string | undefined,
    /** Back to the first page (a filter changed). */
    reset: () => setCursors([]),
    hasPrevious: cursors.length > 0,
    previous: () => setCursors(cursors.slice(0, -1)),
    next: (cursor: string) => setCursors([...cursors, cursor]),
  };
}

export function Pager({ pages, next }: { pages: ReturnType<typeof useCursorPages>; next: string | null | undefined }) {
  const { t } = useT();
  return (
    <nav className="pager" aria-label={t('pager.label')}>
      <button type="button" className="secondary" disabled={!pages.hasPrevious} onClick={pages.previous}>
        {t('pager.previous')}
      </button>
      <button type="button" className="secondary" disabled={!next} onClick={() => next && pages.next(next)}>
        {t('pager.next')}
      </button>
    </nav>
  );
}
