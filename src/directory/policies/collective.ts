/**
 * Role-mailbox policy: shared addresses (info@, sales@, no-reply@ …) are not
 * people, and provisioning them as users costs the customer a seat and gives
 * a whole team one login.
 */
import { fail } from '../../scim/errors.js';
import type { Doc } from '../../scim/resource.js';
import type { ConnectionSettings } from '../settings.js';
import { addressesOf } from './addresses.js';

/**
 * Built-in role local parts. Written naturally; compared after `roleKey`, so
 * `no-reply`, `no.reply`, `no_reply` and `noreply` are one entry. Deliberately
 * leaves out two-letter words that are also common initials (`it`, `pr`).
 */
const BUILT_IN = [
  // general contact
  'info', 'information', 'contact', 'contact-us', 'hello', 'office', 'mail', 'email', 'post',
  'general', 'team', 'all', 'everyone', 'staff', 'reception', 'front-desk', 'enquiries', 'enquiry',
  'inquiries', 'inquiry', 'feedback', 'newsletter', 'news', 'events',
  // sales, shop, support
  'sales', 'shop', 'store', 'orders', 'order', 'bookings', 'booking', 'reservations', 'partners',
  'support', 'help', 'helpdesk', 'service', 'customer-service', 'customer-care', 'care', 'customers',
  // administration, IT, mail system
  'admin', 'administrator', 'administration', 'root', 'sysadmin', 'it-support', 'operations', 'ops',
  'management', 'postmaster', 'hostmaster', 'webmaster', 'abuse', 'security', 'mailer-daemon',
  'bounce', 'bounces', 'nobody', 'no-reply', 'do-not-reply', 'notifications', 'alerts',
  'subscribe', 'unsubscribe', 'list', 'lists',
  // people and money
  'hr', 'human-resources', 'jobs', 'job', 'careers', 'career', 'recruiting', 'recruitment', 'hiring',
  'applications', 'billing', 'accounts', 'accounting', 'accounts-payable', 'accounts-receivable',
  'invoices', 'invoice', 'finance', 'payments', 'payroll', 'purchasing', 'procurement',
  // legal, press
  'privacy', 'gdpr', 'dpo', 'data-protection', 'legal', 'compliance', 'press', 'media', 'marketing',
  // German-speaking customers (the genderValues m/w/x convention is from there too)
  'kontakt', 'vertrieb', 'verkauf', 'buchhaltung', 'rechnung', 'rechnungen', 'bewerbung',
  'bewerbungen', 'karriere', 'empfang', 'zentrale', 'verwaltung', 'presse', 'datenschutz',
  'kundenservice', 'bestellung', 'bestellungen',
];

/**
 * The comparison key of a local part: trimmed, unquoted, lower-cased,
 * plus-address tag dropped (`info+x` is `info`), separators `.`, `_`, `-`
 * removed (`no.reply` is `noreply`). Exported for the settings check.
 */
export function roleKey(local: string): string {
  let s = local.trim().toLowerCase();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  const plus = s.indexOf('+');
  if (plus >= 0) s = s.slice(0, plus);
  return s.replace(/[._-]/g, '');
}

const BUILT_IN_KEYS: ReadonlySet<string> = new Set(BUILT_IN.map(roleKey));

/** The built-in list as written, for documentation and the admin UI. */
export const BUILT_IN_COLLECTIVE_LOCAL_PARTS: readonly string[] = BUILT_IN;

/** When `rejectCollectiveAddresses`, refuses a userName or e-mail address whose local part is a role mailbox. */
export function checkCollective(settings: ConnectionSettings, doc: Doc): void {
  if (!settings.rejectCollectiveAddresses) return;
  const extra = new Set(settings.collectiveLocalParts.map(roleKey));
  for (const a of addressesOf(doc)) {
    if (a.local === undefined) continue;
    const key = roleKey(a.local);
    if (key === '' || !(BUILT_IN_KEYS.has(key) || extra.has(key))) continue;
    throw fail(
      'ROLLCALL_COLLECTIVE_ADDRESS',
      `'${a.address}' (${a.where}) is a shared role mailbox ('${key}'), not a person's address; ` +
        `this connection refuses collective addresses (rejectCollectiveAddresses). Provision the person's own address.`,
    );
  }
}

/** Settings check: entries of collectiveLocalParts must be bare local parts. */
export function validateCollectiveLocalParts(settings: ConnectionSettings): string[] {
  const problems: string[] = [];
  settings.collectiveLocalParts.forEach((p, i) => {
    const where = `collectiveLocalParts[${i}]`;
    if (p.includes('@')) problems.push(`${where}: '${p}' must be a local part without '@' (e.g. 'info', not 'info@example.com')`);
    else if (p.includes('+')) problems.push(`${where}: '${p}' must not contain '+': plus-address tags are ignored when comparing, list the part before '+'`);
    else if (/\s/.test(p)) problems.push(`${where}: '${p}' must not contain spaces`);
    else if (roleKey(p) === '') problems.push(`${where}: '${p}' has no letters or digits`);
  });
  return problems;
}
