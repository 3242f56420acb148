// Types of flows.js for the TypeScript unit tests (the page loads the .js as it is).
export interface FlowLike {
  readonly table: number;
  readonly match: string;
  readonly text: string;
  readonly kind: string;
  readonly binding: string | null;
}
export function rulePieces(text: string): string[];
export function flowKey(flow: Pick<FlowLike, 'table' | 'match'>): string;
export function matchesFilter(flow: FlowLike, words: readonly string[], tableName?: string | null): boolean;
export function filterWords(text: string): string[];
export interface ReorderPlan {
  readonly remove: string[];
  readonly place: { readonly key: string; readonly before: string | null }[];
}
export function reorderPlan(current: readonly string[], desired: readonly string[]): ReorderPlan;
