/**
 * Where webhook deliveries may go (SSRF): by default only https to public
 * addresses. A webhook URL is checked when it is added and again on every
 * attempt; host names are checked once more at connect time, on the very
 * addresses the socket is given (`guardedLookup`), so a name that resolves
 * somewhere else by then (DNS rebinding) is refused without a second lookup
 * that could differ from the first. `allowPrivate` (ROLLCALL_WEBHOOK_ALLOW_PRIVATE)
 * lifts the address and https rules for local development and tests; credentials
 * in the URL are refused either way.
 *
 * Hosts arrive through WHATWG URL, which already writes every IPv4 spelling
 * (0x7f.1, 2130706433, 0177.0.0.1, 127.1) as a dotted quad and IPv6 in its
 * compressed form; the checks below see only those normal forms.
 */
import dns from 'node:dns';
import net from 'node:net';
import { fail } from '../scim/errors.js';

/** dns.lookup with `all: true`; replaceable in tests. */
export type LookupAll = (hostname: string, options: dns.LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

export interface EgressPolicy {
  /** Private, loopback and link-local addresses and plain http are allowed (local development). */
  allowPrivate: boolean;
  /** How host names are resolved (default dns.lookup). */
  lookup?: LookupAll;
}

const systemLookup: LookupAll = (hostname, options, callback) => dns.lookup(hostname, options, callback);

interface Range {
  list: net.BlockList;
  why: string;
}

function ranges(family: 'ipv4' | 'ipv6', table: [string, number, string][]): Range[] {
  return table.map(([prefix, bits, why]) => {
    const list = new net.BlockList();
    list.addSubnet(prefix, bits, family);
    return { list, why };
  });
}

// First match names the reason; the broadcast address comes before 240/4, which holds it.
const V4 = ranges('ipv4', [
  ['0.0.0.0', 8, '"this network" (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'a private address (10.0.0.0/8)'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address (100.64.0.0/10)'],
  ['127.0.0.0', 8, 'a loopback address (127.0.0.0/8)'],
  ['169.254.0.0', 16, 'a link-local address (169.254.0.0/16, where cloud metadata services answer)'],
  ['172.16.0.0', 12, 'a private address (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'an IETF protocol address (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'a documentation address (192.0.2.0/24)'],
  ['192.88.99.0', 24, 'a 6to4 relay address (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'a private address (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'a benchmarking address (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'a documentation address (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'a documentation address (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'a multicast address (224.0.0.0/4)'],
  ['255.255.255.255', 32, 'the broadcast address'],
  ['240.0.0.0', 4, 'a reserved address (240.0.0.0/4)'],
]);

// Checked after the forms that embed an IPv4 address (mapped, NAT64, 6to4), which are judged by that address.
const V6 = ranges('ipv6', [
  ['::', 128, 'the unspecified address (::)'],
  ['::1', 128, 'the loopback address (::1)'],
  ['fc00::', 7, 'a unique local (private) address (fc00::/7)'],
  ['fe80::', 10, 'a link-local address (fe80::/10)'],
  ['fec0::', 10, 'a site-local address (fec0::/10)'],
  ['ff00::', 8, 'a multicast address (ff00::/8)'],
  ['64:ff9b:1::', 48, 'a local-use NAT64 address (64:ff9b:1::/48)'],
  ['2001::', 32, 'a Teredo address (2001::/32)'],
  ['2001:2::', 48, 'a benchmarking address (2001:2::/48)'],
  ['2001:10::', 27, 'an ORCHID address (2001:10::/27)'],
  ['2001:db8::', 32, 'a documentation address (2001:db8::/32)'],
]);
const GLOBAL_UNICAST = ranges('ipv6', [['2000::', 3, '']])[0].list;

/** The eight 16-bit groups of a valid IPv6 address (zone id dropped). */
function ipv6Groups(address: string): number[] {
  let s = address.split('%')[0].toLowerCase();
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    s = s.slice(0, quad.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

const dotted = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** The IPv4 address an IPv6 address stands for (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16), if any. */
function embeddedIpv4(g: number[]): { v4: string; form: string } | undefined {
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return { v4: dotted(g[6], g[7]), form: 'IPv4-mapped' };
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return { v4: dotted(g[6], g[7]), form: 'NAT64' };
  if (g[0] === 0x2002) return { v4: dotted(g[1], g[2]), form: '6to4' };
  // ::a.b.c.d (deprecated IPv4-compatible); :: and ::1 are named below.
  if (g.slice(0, 6).every((x) => x === 0) && (g[6] !== 0 || g[7] > 1)) return { v4: dotted(g[6], g[7]), form: 'IPv4-compatible' };
  return undefined;
}

/** Why `address` (an IP address in normal form) is no place to deliver to; undefined when it is public. */
export function addressRefusal(address: string): string | undefined {
  const family = net.isIP(address.split('%')[0]);
  if (family === 4) return V4.find((r) => r.list.check(address, 'ipv4'))?.why;
  if (family !== 6) return 'not an IP address';
  const g = ipv6Groups(address);
  const inner = embeddedIpv4(g);
  if (inner) {
    const why = addressRefusal(inner.v4);
    if (why) return `${inner.form} for ${inner.v4}, ${why}`;
    if (inner.form === 'IPv4-compatible') return 'a deprecated IPv4-compatible address (::/96)';
    // A public IPv4 behind NAT64 or 6to4 is how IPv6-only networks reach it.
    return undefined;
  }
  const plain = address.split('%')[0];
  const named = V6.find((r) => r.list.check(plain, 'ipv6'));
  if (named) return named.why;
  if (!GLOBAL_UNICAST.check(plain, 'ipv6')) return 'a reserved IPv6 address (outside 2000::/3)';
  return undefined;
}

// Names that lead inside whatever they resolve to from here.
const INTERNAL_SUFFIXES: [string, string][] = [
  ['localhost', 'a loopback name'],
  ['local', 'a multicast DNS (.local) name'],
  ['internal', 'a private-use (.internal) name, where cloud metadata services answer'],
  ['home.arpa', 'a home network (.home.arpa) name'],
  ['localdomain', 'a local (.localdomain) name'],
  ['metadata.goog', 'a cloud metadata service name'],
];

function nameRefusal(name: string): string | undefined {
  for (const [suffix, why] of INTERNAL_SUFFIXES) if (name === suffix || name.endsWith('.' + suffix)) return why;
  // 'metadata', 'instance-data', an intranet host: resolved through the local search domains.
  if (!name.includes('.')) return 'a single-label name (resolved through the local search domains)';
  return undefined;
}

/** The host of a URL as an IP literal (brackets dropped) or a name without its trailing dot. */
export function urlHost(u: URL): string {
  const h = u.hostname;
  if (h.startsWith('[') && h.endsWith(']')) return h.slice(1, -1);
  return h.replace(/\.$/, '');
}

/** Why the policy refuses `u` without resolving it; undefined when it may be tried. */
export function urlRefusal(u: URL, policy: EgressPolicy): string | undefined {
  if (u.username || u.password) return 'it has credentials (user:password@); the signature authenticates deliveries, and a URL is shown and logged';
  if (policy.allowPrivate) return undefined;
  if (u.protocol !== 'https:') return 'it is not https (plain http is allowed only with ROLLCALL_WEBHOOK_ALLOW_PRIVATE=true)';
  const host = urlHost(u);
  if (net.isIP(host)) {
    const why = addressRefusal(host);
    return why && `${host} is ${why}`;
  }
  const why = nameRefusal(host);
  return why && `${host} is ${why}`;
}

function lookupAll(lookup: LookupAll, host: string, timeoutMs: number): Promise<dns.LookupAddress[] | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    lookup(host, { all: true }, (err, addresses) => {
      clearTimeout(timer);
      resolve(err ? undefined : addresses);
    });
  });
}

function refusedAddress(host: string, addresses: readonly dns.LookupAddress[]): string | undefined {
  for (const a of addresses) {
    const why = addressRefusal(a.address);
    if (why) return `${host} resolves to ${a.address}, ${why}`;
  }
  return undefined;
}

/**
 * Refuses a webhook URL the policy does not allow (ROLLCALL_WEBHOOK_URL_NOT_ALLOWED),
 * resolving a host name to refuse one that leads to a private address. A name
 * that does not resolve from here (yet) is accepted: every attempt checks again.
 */
export async function checkWebhookTarget(url: string, policy: EgressPolicy, lookupTimeoutMs = 2_000): Promise<void> {
  const u = new URL(url);
  const why = urlRefusal(u, policy);
  if (why) throw fail('ROLLCALL_WEBHOOK_URL_NOT_ALLOWED', `'url' is not allowed: ${why}`);
  if (policy.allowPrivate) return;
  const host = urlHost(u);
  if (net.isIP(host)) return;
  const addresses = await lookupAll(policy.lookup ?? systemLookup, host, lookupTimeoutMs);
  const refused = addresses && refusedAddress(host, addresses);
  if (refused) throw fail('ROLLCALL_WEBHOOK_URL_NOT_ALLOWED', `'url' is not allowed: ${refused}`);
}

/** A connection the egress policy refused; its message names the host, the address and why. */
export class EgressRefusedError extends Error {
  readonly code = 'ERR_ROLLCALL_EGRESS_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'EgressRefusedError';
  }
}

/**
 * A `lookup` for net/tls connections that resolves once and hands the socket only
 * addresses it checked. Every address of the answer must be public: a mixed
 * answer is how rebinding attacks hedge, so it is refused as a whole.
 */
export function guardedLookup(policy: EgressPolicy): net.LookupFunction {
  const lookup = policy.lookup ?? systemLookup;
  return ((hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void) => {
    lookup(hostname, { family: options.family, hints: options.hints, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      if (!addresses.length) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
      const refused = refusedAddress(hostname, addresses);
      if (refused) return callback(new EgressRefusedError(refused), '');
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  }) as net.LookupFunction;
}
