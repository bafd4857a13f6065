/** The shapes PATCH works with: its result, the resolved target of a path, the state of one request. */
import { type AttributeDef, type ResourceTypeDef, type SchemaDef } from '../schemas.js';
import { type Doc } from '../resource.js';
import type { Filter } from '../filter/ast.js';

export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

export type MemberOp =
  | { op: 'add'; members: { value: string; type?: string }[] }
  | { op: 'remove'; ids: string[] }
  | { op: 'removeAll' };

export interface PatchResult {
  doc: Doc;
  externalId: string | undefined;
  changes: Change[];
  memberOps: MemberOp[];
}

export type OpName = 'add' | 'replace' | 'remove';

/** What a PATCH path points at once resolved against the resource type. */
export type Target =
  /** The core schema URN as a path: the resource itself, like no path. */
  | { kind: 'resource' }
  /** A bare extension URN: the whole extension object. */
  | { kind: 'extension'; schema: SchemaDef }
  | AttrTarget;

export interface AttrTarget {
  kind: 'attr';
  def: AttributeDef;
  /** Extension URN the attribute is stored under; undefined for core attributes. */
  ext?: string;
  /** externalId lives beside the document, not in it. */
  externalId: boolean;
  sub?: AttributeDef;
  filter?: Filter;
  subAfter?: AttributeDef;
  /** Canonical name for messages, e.g. `urn:…:User:manager`. */
  label: string;
}

export interface State {
  rt: ResourceTypeDef;
  doc: Doc;
  externalId: string | undefined;
  memberOps: MemberOp[];
}
