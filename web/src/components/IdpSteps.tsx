// Where the SCIM URL and token go in Entra ID and in Okta, step by step.
import { useT } from '../i18n';

export function IdpSteps() {
  const { t } = useT();
  return (
    <div className="idp-steps">
      <section>
        <h3>{t('steps.entra.title')}</h3>
        <ol>
          {[1, 2, 3, 4, 5, 6].map((n) => (
            <li key={n}>{t(`steps.entra.${n}`)}</li>
          ))}
        </ol>
      </section>
      <section>
        <h3>{t('steps.okta.title')}</h3>
        <ol>
          {[1, 2, 3, 4, 5, 6].map((n) => (
            <li key={n}>{t(`steps.okta.${n}`)}</li>
          ))}
        </ol>
      </section>
    </div>
  );
}
