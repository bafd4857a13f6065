/**
 * Filter AST for RFC 7644 §3.4.2.2 filters. Produced by `parseFilter`, consumed by
 * the SQL compiler in `store/` and by the in-memory evaluator (PATCH value paths,
 * property tests). Attribute names are kept exactly as the client wrote them;
 * resolving them against a schema (case-insensitively) is the consumer's job.
 */

/** `[uri ":"] attr ["." sub]`, e.g. `urn:…:enterprise:2.0:User:manager.value`. */
export interface AttrPath {
  /** Schema URN prefix when the path was fully qualified, as written (no trailing colon). */
  uri?: string;
  attr: string;
  sub?: string;
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/**
 * A comparison value. JSON literals become their JS type; a bare token that is not
 * a JSON literal (Entra ID sends `externalId eq jyoung`) becomes a string.
 * `raw` keeps the token text of unquoted values so a consumer can re-interpret a
 * number as a string attribute value without losing digits (`eq 007`).
 */
export interface CompareValue {
  value: string | number | boolean | null;
  raw?: string;
}

export type Filter =
  | { kind: 'compare'; path: AttrPath; op: CompareOp; value: CompareValue }
  | { kind: 'present'; path: AttrPath }
  | { kind: 'and'; left: Filter; right: Filter }
  | { kind: 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  /**
   * `emails[type eq "work" and value co "@x"]`: true when ONE value of the
   * multi-valued attribute satisfies the inner filter. Paths inside `filter` are
   * relative to the attribute (they name its sub-attributes, `attr` = sub name).
   * `path.sub` is set for `emails[type eq "work"].value` in filters (rare) .
   */
  | { kind: 'valuePath'; path: AttrPath; filter: Filter };

/** A PATCH path (RFC 7644 §3.5.2): `attrPath` or `valuePath ["." subAttr]`. */
export interface PatchPath {
  path: AttrPath;
  /** Value filter selecting elements of a multi-valued attribute, e.g. `[type eq "work"]`. */
  filter?: Filter;
  /** Sub-attribute after the value filter: `emails[type eq "work"].value` → `value`. */
  subAfterFilter?: string;
}
