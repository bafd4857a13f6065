/** One page of a SCIM list as the store runs it: filter, sort and window, already parsed. */
import type { Filter, AttrPath } from '../scim/filter/ast.js';

export interface ListQuery {
  filter?: Filter;
  sortBy?: AttrPath;
  descending?: boolean;
  offset: number;
  limit: number;
}
