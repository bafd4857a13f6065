// An error in words a person understands, with the server's detail one click away.
import { ApiError } from '../api';
import { useT } from '../i18n';

export function ErrorNotice({ error }: { error: unknown }) {
  const { t, i18nHas } = useErrorText();
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError(0, 'ROLLCALL_NETWORK', error instanceof Error ? error.message : String(error));
  const key = `errors.${e.code}`;
  const words = i18nHas(key) ? t(key) : e.status === 0 ? t('errors.network') : t('errors.generic');
  return (
    <div className="error" role="alert">
      <p>{words}</p>
      <details>
        <summary>{t('errors.details')}</summary>
        <p>
          <code>{e.code}</code>
          {e.status ? ` · HTTP ${e.status}` : ''}
        </p>
        <p>{e.message}</p>
      </details>
    </div>
  );
}

function useErrorText() {
  const { t } = useT();
  return { t, i18nHas: (key: string) => t(key) !== key };
}
