/** Test data: SCIM users to create, and the autocannon requests that create or read them. */

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const DEPARTMENTS = ['Engineering', 'Sales', 'Finance', 'Support', 'Marketing', 'Legal', 'Operations'];

/** A create body like the ones Entra ID sends. */
export function userBody(n) {
  const id = String(n).padStart(7, '0');
  const given = `Given${id}`;
  const family = `Family${id}`;
  return JSON.stringify({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
    externalId: `ext-${id}`,
    userName: `bench.user.${id}@example.com`,
    active: true,
    displayName: `${given} ${family}`,
    name: { formatted: `${given} ${family}`, givenName: given, familyName: family },
    emails: [{ primary: true, type: 'work', value: `bench.user.${id}@example.com` }],
    title: 'Engineer',
    meta: { resourceType: 'User' },
    roles: [],
    [ENTERPRISE]: { employeeNumber: id, department: DEPARTMENTS[n % DEPARTMENTS.length] },
  });
}

/**
 * An autocannon POST /Users request: each one a new user numbered by `nextNumber()`;
 * `onResponse(status, body)`, when given, sees every answer.
 */
export function createUserRequest(usersPath, headers, nextNumber, onResponse) {
  return {
    method: 'POST',
    path: usersPath,
    headers: { ...headers, 'content-type': 'application/scim+json' },
    setupRequest: (req) => ({ ...req, body: userBody(nextNumber()) }),
    ...(onResponse ? { onResponse } : {}),
  };
}

/** An autocannon GET request whose path `makePath()` picks anew for each request. */
export const getRequest = (makePath, headers) => ({ method: 'GET', ...(headers ? { headers } : {}), setupRequest: (r) => ({ ...r, path: makePath() }) });

/** The path of a `userName eq "name"` filter under `api`. */
export const filterByUserName = (api, name) => `${api}/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`;
