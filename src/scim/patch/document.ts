/** Reading and writing the attribute a target names in the document being patched. */
import { type Doc } from '../resource.js';
import type { AttrTarget, State } from './types.js';
import { isEmpty, isObject } from './values.js';

export function getValue(st: State, t: AttrTarget): unknown {
  if (t.externalId) return st.externalId;
  const container = t.ext === undefined ? st.doc : st.doc[t.ext];
  return isObject(container) ? container[t.def.name] : undefined;
}

/** Writes a value; undefined or an empty object/array unassigns, and an emptied extension goes too. */
export function setValue(st: State, t: AttrTarget, v: unknown): void {
  if (t.externalId) {
    st.externalId = typeof v === 'string' && v !== '' ? v : undefined;
    return;
  }
  if (t.ext === undefined) {
    if (isEmpty(v)) delete st.doc[t.def.name];
    else st.doc[t.def.name] = v;
    return;
  }
  let container = st.doc[t.ext];
  if (isEmpty(v)) {
    if (!isObject(container)) return;
    delete container[t.def.name];
    if (Object.keys(container).length === 0) delete st.doc[t.ext];
    return;
  }
  if (!isObject(container)) {
    container = {};
    st.doc[t.ext] = container;
  }
  (container as Doc)[t.def.name] = v;
}

export function currentList(st: State, t: AttrTarget): unknown[] {
  const v = getValue(st, t);
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}
