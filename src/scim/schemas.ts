/**
 * RFC 7643 schema definitions for the resources Rollcall serves. These objects are
 * both the machine-readable truth the code validates against and what /Schemas
 * returns, so what we advertise is exactly what we enforce.
 */

export type AttrType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';
export type Uniqueness = 'none' | 'server' | 'global';

export interface AttributeDef {
  name: string;
  type: AttrType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: Uniqueness;
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
export const SP_CONFIG = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

type Opts = Partial<Omit<AttributeDef, 'name' | 'type' | 'subAttributes'>>;

function attr(name: string, type: AttrType, description: string, opts: Opts = {}, subAttributes?: AttributeDef[]): AttributeDef {
  const def: AttributeDef = {
    name,
    type,
    multiValued: opts.multiValued ?? false,
    description,
    required: opts.required ?? false,
    caseExact: opts.caseExact ?? false,
    mutability: opts.mutability ?? 'readWrite',
    returned: opts.returned ?? 'default',
    uniqueness: opts.uniqueness ?? 'none',
  };
  if (opts.canonicalValues) def.canonicalValues = opts.canonicalValues;
  if (opts.referenceTypes) def.referenceTypes = opts.referenceTypes;
  if (subAttributes) def.subAttributes = subAttributes;
  return def;
}

const str = (name: string, description: string, opts: Opts = {}) => attr(name, 'string', description, opts);

/** The usual sub-attributes of a multi-valued attribute (RFC 7643 §2.4). */
function multi(name: string, description: string, types: string[], valueType: AttrType = 'string', extra: AttributeDef[] = [], valueOpts: Opts = {}): AttributeDef {
  return attr(name, 'complex', description, { multiValued: true }, [
    attr('value', valueType, `The value of the ${name} entry.`, valueOpts),
    str('display', 'A human-readable name, primarily used for display purposes.'),
    str('type', `A label indicating the attribute's function.`, { canonicalValues: types }),
    attr('primary', 'boolean', `A Boolean value indicating the 'primary' or preferred value; at most one value is primary.`),
    ...extra,
  ]);
}

const nameAttr = attr('name', 'complex', `The components of the user's real name.`, {}, [
  str('formatted', 'The full name, including all middle names, titles, and suffixes as appropriate, formatted for display.'),
  str('familyName', 'The family name of the User, or last name in most Western languages.'),
  str('givenName', 'The given name of the User, or first name in most Western languages.'),
  str('middleName', 'The middle name(s) of the User.'),
  str('honorificPrefix', `The honorific prefix(es) of the User, or title in most Western languages (e.g. 'Ms.').`),
  str('honorificSuffix', `The honorific suffix(es) of the User, or suffix in most Western languages (e.g. 'III').`),
]);

const addressesAttr = attr('addresses', 'complex', 'A physical mailing address for this User.', { multiValued: true }, [
  str('formatted', 'The full mailing address, formatted for display or use with a mailing label.'),
  str('streetAddress', 'The full street address component.'),
  str('locality', 'The city or locality component.'),
  str('region', 'The state or region component.'),
  str('postalCode', 'The zip code or postal code component.'),
  str('country', 'The country name component (ISO 3166-1 alpha-2 recommended).'),
  str('type', 'A label indicating the attribute\'s function.', { canonicalValues: ['work', 'home', 'other'] }),
  attr('primary', 'boolean', 'A Boolean value indicating the primary address.'),
]);

const groupsOfUser = attr('groups', 'complex', 'A list of groups to which the user belongs, either through direct membership or nested groups. Read-only: managed through the Group resource.', { multiValued: true, mutability: 'readOnly' }, [
  str('value', 'The identifier of the User\'s group.', { mutability: 'readOnly', caseExact: true }),
  attr('$ref', 'reference', 'The URI of the corresponding Group resource.', { mutability: 'readOnly', referenceTypes: ['Group'] }),
  str('display', 'A human-readable name, primarily used for display purposes.', { mutability: 'readOnly' }),
  str('type', 'A label indicating the attribute\'s function.', { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] }),
]);

export const userSchema: SchemaDef = {
  id: CORE_USER,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', 'Unique identifier for the User, typically used by the user to directly authenticate. Unique per connection, compared case-insensitively.', { required: true, uniqueness: 'server' }),
    nameAttr,
    str('displayName', 'The name of the User, suitable for display to end-users.'),
    str('nickName', 'The casual way to address the user in real life.'),
    attr('profileUrl', 'reference', 'A fully qualified URL pointing to a page representing the User\'s online profile.', { referenceTypes: ['external'] }),
    str('title', 'The user\'s title, such as "Vice President".'),
    str('userType', 'Used to identify the relationship between the organization and the user.'),
    str('preferredLanguage', 'Indicates the User\'s preferred written or spoken language (RFC 7231 language tag).'),
    str('locale', 'Used to indicate the User\'s default location for localization purposes.'),
    str('timezone', 'The User\'s time zone in the IANA Time Zone database format.'),
    attr('active', 'boolean', 'A Boolean value indicating the User\'s administrative status.'),
    str('password', 'The User\'s cleartext password. Write-only: accepted and never stored or returned.', { mutability: 'writeOnly', returned: 'never' }),
    multi('emails', 'Email addresses for the user.', ['work', 'home', 'other']),
    multi('phoneNumbers', 'Phone numbers for the User.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    multi('ims', 'Instant messaging addresses for the User.', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
    multi('photos', 'URLs of photos of the User.', ['photo', 'thumbnail'], 'reference', [], { referenceTypes: ['external'] }),
    addressesAttr,
    groupsOfUser,
    multi('entitlements', 'A list of entitlements for the User that represent a thing the User has.', []),
    multi('roles', 'A list of roles for the User that collectively represent who the User is.', []),
    multi('x509Certificates', 'A list of certificates issued to the User.', [], 'binary'),
  ],
};

export const enterpriseUserSchema: SchemaDef = {
  id: ENTERPRISE_USER,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person.'),
    str('costCenter', 'Identifies the name of a cost center.'),
    str('organization', 'Identifies the name of an organization.'),
    str('division', 'Identifies the name of a division.'),
    str('department', 'Identifies the name of a department.'),
    attr('manager', 'complex', 'The User\'s manager.', {}, [
      str('value', 'The id of the SCIM resource representing the User\'s manager.', { caseExact: true }),
      attr('$ref', 'reference', 'The URI of the SCIM resource representing the User\'s manager.', { referenceTypes: ['User'] }),
      str('displayName', 'The displayName of the User\'s manager.', { mutability: 'readOnly' }),
    ]),
  ],
};

export const ROLLCALL_USER = 'urn:ietf:params:scim:schemas:extension:rollcall:2.0:User';

/**
 * Rollcall's own User extension: attributes SaaS products need that RFC 7643 lacks.
 * IdPs send them from directory extension attributes mapped to these paths.
 */
export const rollcallUserSchema: SchemaDef = {
  id: ROLLCALL_USER,
  name: 'RollcallUser',
  description: 'Rollcall provisioning attributes',
  attributes: [
    str('gender', "The user's gender, translated through the connection's genderValues map (e.g. m → male)."),
    str('academicDegree', "The user's academic degree or title, e.g. Dr. or Prof. Dr."),
  ],
};

export const groupSchema: SchemaDef = {
  id: CORE_GROUP,
  name: 'Group',
  description: 'Group',
  attributes: [
    str('displayName', 'A human-readable name for the Group. Unique per connection, compared case-insensitively.', { required: true, uniqueness: 'server' }),
    attr('members', 'complex', 'A list of members of the Group (Users only: groups are not nested).', { multiValued: true }, [
      str('value', 'Identifier of the member of this Group.', { mutability: 'immutable', caseExact: true }),
      attr('$ref', 'reference', 'The URI corresponding to a SCIM resource that is a member of this Group.', { mutability: 'immutable', referenceTypes: ['User'] }),
      str('display', 'A human-readable name of the member (the user\'s displayName).', { mutability: 'readOnly' }),
      str('type', 'A label indicating the type of resource.', { mutability: 'immutable', canonicalValues: ['User'] }),
    ]),
  ],
};

/** Attributes every resource has (RFC 7643 §3.1), described once for lookup and filtering. */
export const commonAttributes: AttributeDef[] = [
  str('id', 'A unique identifier for a SCIM resource as defined by the service provider.', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  str('externalId', 'A String that is an identifier for the resource as defined by the provisioning client.', { caseExact: true }),
  attr('meta', 'complex', 'A complex attribute containing resource metadata.', { mutability: 'readOnly' }, [
    str('resourceType', 'The name of the resource type of the resource.', { mutability: 'readOnly', caseExact: true }),
    attr('created', 'dateTime', 'The date and time the resource was added to the service provider.', { mutability: 'readOnly' }),
    attr('lastModified', 'dateTime', 'The most recent date and time that the details of this resource were updated.', { mutability: 'readOnly' }),
    attr('location', 'reference', 'The URI of the resource being returned.', { mutability: 'readOnly', caseExact: true }),
    str('version', 'The version (ETag) of the resource being returned.', { mutability: 'readOnly', caseExact: true }),
  ]),
];

export interface ResourceTypeDef {
  id: 'User' | 'Group';
  name: string;
  endpoint: string;
  description: string;
  schema: SchemaDef;
  extensions: { schema: SchemaDef; required: boolean }[];
}

export const userResourceType: ResourceTypeDef = {
  id: 'User',
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  schema: userSchema,
  extensions: [
    { schema: enterpriseUserSchema, required: false },
    { schema: rollcallUserSchema, required: false },
  ],
};

export const groupResourceType: ResourceTypeDef = {
  id: 'Group',
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group',
  schema: groupSchema,
  extensions: [],
};

export const resourceTypes: ResourceTypeDef[] = [userResourceType, groupResourceType];
export const allSchemas: SchemaDef[] = [userSchema, enterpriseUserSchema, rollcallUserSchema, groupSchema];

/**
 * Misspelled extension URNs seen in real traffic (Microsoft's documented examples
 * carry `…enterprise:2.0User`), mapped to the URN they mean.
 */
const URN_ALIASES: Record<string, string> = {
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0user': ENTERPRISE_USER,
};

/** Canonical schema URN for a URN as written by a client, or undefined when unknown. */
export function canonicalSchemaUri(rt: ResourceTypeDef, uri: string): string | undefined {
  const lc = uri.toLowerCase();
  if (lc === rt.schema.id.toLowerCase()) return rt.schema.id;
  for (const ext of rt.extensions) if (ext.schema.id.toLowerCase() === lc) return ext.schema.id;
  const alias = URN_ALIASES[lc];
  if (alias && rt.extensions.some((e) => e.schema.id === alias)) return alias;
  return undefined;
}

export function schemaById(rt: ResourceTypeDef, uri: string): SchemaDef | undefined {
  const id = canonicalSchemaUri(rt, uri);
  if (!id) return undefined;
  return id === rt.schema.id ? rt.schema : rt.extensions.find((e) => e.schema.id === id)!.schema;
}

/** Case-insensitive lookup of an attribute among definitions (SCIM names are case-insensitive). */
export function findAttr(defs: AttributeDef[] | undefined, name: string): AttributeDef | undefined {
  if (!defs) return undefined;
  const lc = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === lc);
}

/** A resolved attribute path: where the value lives in a stored document and its definition. */
export interface ResolvedAttr {
  /** Schema URN the attribute belongs to (core or extension). */
  schema: string;
  /** True when the attribute lives under the extension URN key in the document. */
  inExtension: boolean;
  def: AttributeDef;
  /** Definition of the sub-attribute when the path names one. */
  subDef?: AttributeDef;
  /** True for id/externalId/meta, which are stored outside the document body. */
  common: boolean;
}

/**
 * Resolves `[uri:]attr[.sub]` against a resource type. Returns undefined when the
 * attribute is unknown; callers choose the error (invalidFilter, invalidPath …).
 */
export function resolveAttr(rt: ResourceTypeDef, path: { uri?: string; attr: string; sub?: string }): ResolvedAttr | undefined {
  let schema = rt.schema;
  let inExtension = false;
  if (path.uri) {
    const s = schemaById(rt, path.uri);
    if (!s) return undefined;
    schema = s;
    inExtension = s.id !== rt.schema.id;
  }
  let def: AttributeDef | undefined;
  let common = false;
  if (!inExtension) {
    def = findAttr(commonAttributes, path.attr);
    common = !!def;
  }
  def ??= findAttr(schema.attributes, path.attr);
  if (!def) return undefined;
  let subDef: AttributeDef | undefined;
  if (path.sub !== undefined) {
    subDef = findAttr(def.subAttributes, path.sub);
    if (!subDef) return undefined;
  }
  return { schema: schema.id, inExtension, def, subDef, common };
}
