// A read-only value with a copy button (the SCIM URL, a token, a setup link).
import { useId, useState } from 'react';
import { useT } from '../i18n';

export function CopyField({ label, value, secret = false, testId }: { label: string; value: string; secret?: boolean; testId?: string }) {
  const { t } = useT();
  const id = useId();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(value);
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} readOnly value={value} data-testid={testId} className={secret ? 'secret' : undefined} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={() => void copy()} aria-label={`${t('copy.button')}: ${label}`}>
          {copied ? t('copy.done') : t('copy.button')}
        </button>
      </div>
    </div>
  );
}
