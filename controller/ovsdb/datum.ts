// OVSDB values in their JSON notation (RFC 7047 section 5.1): an atom (string, number, boolean,
// ["uuid", "..."]), a set (["set", [atoms]], or one atom alone), a map (["map", [[key, value]...]]).
// The decoders throw DatumError on a value of the wrong shape; callers catch it per row, so one
// odd row never stops the others.

export class DatumError extends Error {
  override readonly name = 'DatumError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): boolean {
  return typeof value === 'string' && UUID.test(value);
}

function tagged(datum: unknown, tag: string): unknown[] | undefined {
  return Array.isArray(datum) && datum.length === 2 && datum[0] === tag && Array.isArray(datum[1]) ? datum[1] : undefined;
}

/** The members of a set column (an optional column is a set of 0 or 1). A missing column is empty. */
export function setMembers(datum: unknown): unknown[] {
  if (datum === undefined) return [];
  const members = tagged(datum, 'set');
  if (members !== undefined) return members;
  if (Array.isArray(datum) && datum[0] !== 'uuid') throw new DatumError(`not a set: ${JSON.stringify(datum).slice(0, 80)}`);
  return [datum];
}

/** A uuid atom ["uuid", "..."]. */
export function uuidAtom(atom: unknown): string {
  if (Array.isArray(atom) && atom.length === 2 && atom[0] === 'uuid' && isUuid(atom[1])) return (atom[1] as string).toLowerCase();
  throw new DatumError(`not a uuid: ${JSON.stringify(atom)?.slice(0, 80)}`);
}

/** The uuids of a set-of-references column (Bridge.ports, Port.interfaces). */
export function uuidSet(datum: unknown): string[] {
  return setMembers(datum).map(uuidAtom);
}

function optionalAtom<T>(datum: unknown, what: string, check: (atom: unknown) => atom is T): T | undefined {
  const members = setMembers(datum);
  if (members.length === 0) return undefined;
  const [atom] = members;
  if (members.length > 1 || !check(atom)) throw new DatumError(`not an optional ${what}: ${JSON.stringify(datum).slice(0, 80)}`);
  return atom;
}

const isString = (atom: unknown): atom is string => typeof atom === 'string';
const isInteger = (atom: unknown): atom is number => Number.isSafeInteger(atom);

/** A string column, or an optional one (empty set -> undefined). */
export function optionalString(datum: unknown): string | undefined {
  return optionalAtom(datum, 'string', isString);
}

/** An integer column, or an optional one (empty set -> undefined). */
export function optionalInteger(datum: unknown): number | undefined {
  return optionalAtom(datum, 'integer', isInteger);
}

/** A string-to-string map column (external_ids, other_config). A missing column is empty. */
export function stringMap(datum: unknown): Map<string, string> {
  if (datum === undefined) return new Map();
  const pairs = tagged(datum, 'map');
  if (pairs === undefined) throw new DatumError(`not a map: ${JSON.stringify(datum).slice(0, 80)}`);
  const map = new Map<string, string>();
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new DatumError(`not a string map entry: ${JSON.stringify(pair)?.slice(0, 80)}`);
    }
    map.set(pair[0], pair[1]);
  }
  return map;
}
