import { test } from 'vitest';
import { parsePatchPath } from '/work/main/src/scim/filter/parse.js';
test('x', () => {
  for (const p of ['name.givenName','urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value','urn:ietf:params:scim:schemas:extension:enterprise:2.0:User','members[value eq "x" or value eq "y"]','emails[type eq "work"].value','emails[type eq work and primary eq true]', 'urn:ietf:params:scim:schemas:core:2.0:User:name.givenName', 'urn:acme:ext:1.0','emails.value', 'meta.created'])
    console.log(p, JSON.stringify(parsePatchPath(p)));
});
