/** Resolving a PATCH path against the resource type: which attribute, sub-attribute or extension it names. */
import { fail } from '../errors.js';
import { type ResourceTypeDef, canonicalSchemaUri, findAttr, resolveAttr, schemaById } from '../schemas.js';
import type { PatchPath } from '../filter/ast.js';
import type { AttrTarget, Target } from './types.js';

export function resolveTarget(rt: ResourceTypeDef, pp: PatchPath, text: string): Target {
  const { path } = pp;
  if (path.uri !== undefined) {
    // The parser splits at the last colon, so a bare schema URN arrives as
    // `{uri:'…:2.0', attr:'User'}` (or `attr:''` when the tail is not a name).
    const whole = path.attr === '' ? path.uri : `${path.uri}:${path.attr}`;
    const uri = canonicalSchemaUri(rt, whole);
    if (uri !== undefined || path.attr === '') {
      if (uri === undefined) throw fail('ROLLCALL_PATCH_UNKNOWN_SCHEMA', `Unknown schema in path '${text}'.`);
      if (path.sub !== undefined || pp.filter) throw fail('ROLLCALL_PATCH_INVALID_PATH', `Invalid path '${text}'.`);
      return uri === rt.schema.id ? { kind: 'resource' } : { kind: 'extension', schema: schemaById(rt, uri)! };
    }
  }
  let r = resolveAttr(rt, path);
  // Entra ID sends extension attributes unqualified (`"path":"manager"`).
  if (!r && path.uri === undefined) {
    for (const ext of rt.extensions) {
      r = resolveAttr(rt, { uri: ext.schema.id, attr: path.attr, sub: path.sub });
      if (r) break;
    }
  }
  if (!r) throw fail('ROLLCALL_PATCH_UNKNOWN_ATTRIBUTE', `Unknown attribute in path '${text}'.`);
  const { def } = r;
  const label = r.inExtension ? `${r.schema}:${def.name}` : def.name;
  if (def.mutability === 'readOnly') throw fail('ROLLCALL_READ_ONLY_ATTRIBUTE', `Attribute '${label}' is read-only.`);
  if (r.subDef?.mutability === 'readOnly') throw fail('ROLLCALL_READ_ONLY_ATTRIBUTE', `Attribute '${label}.${r.subDef.name}' is read-only.`);
  const target: AttrTarget = {
    kind: 'attr',
    def,
    ext: r.inExtension ? r.schema : undefined,
    externalId: r.common && def.name === 'externalId',
    sub: r.subDef,
    label,
  };
  if (pp.filter) {
    if (!def.multiValued || def.type !== 'complex') {
      throw fail('ROLLCALL_PATCH_INVALID_PATH', `A value filter needs a multi-valued complex attribute; '${label}' is not one.`);
    }
    if (path.sub !== undefined) throw fail('ROLLCALL_PATCH_INVALID_PATH', `Invalid path '${text}': a sub-attribute goes after the filter.`);
    target.filter = pp.filter;
    if (pp.subAfterFilter !== undefined) {
      const subAfter = findAttr(def.subAttributes, pp.subAfterFilter);
      if (!subAfter) throw fail('ROLLCALL_PATCH_UNKNOWN_ATTRIBUTE', `Unknown attribute in path '${text}'.`);
      if (subAfter.mutability === 'readOnly') throw fail('ROLLCALL_READ_ONLY_ATTRIBUTE', `Attribute '${label}.${subAfter.name}' is read-only.`);
      target.subAfter = subAfter;
    }
  }
  return target;
}
