// Types of format.js for the TypeScript unit tests (the page loads the .js as it is).
export interface NamedSwitch { readonly dpid: string; readonly bridge: string | null }
export interface LocatorLike { readonly subnet: string; readonly dpid: string; readonly port: number }
export function shortDpid(dpid: string): string;
export function switchName(sw: NamedSwitch | undefined, dpid?: string): string;
export function switchTitle(sw: NamedSwitch | undefined, dpid?: string): string;
export function where(locator: LocatorLike, switches?: ReadonlyMap<string, NamedSwitch>): string;
export function clock(ms: number): string;
export function ago(ms: number, now: number): string;
export function millis(value: number): string;
export function count(n: number): string;
