// Types of topology-layout.js for the TypeScript unit tests (the page loads the .js as it is).
import type { BindingView, SubnetView, SwitchView } from '../api/views.js';

export const HOSTS_PER_SWITCH: number;
export interface Box { readonly x: number; readonly y: number; readonly w: number; readonly h: number }
export interface SubnetBox extends Box { readonly key: string; readonly name: string | null; readonly prefix: string; readonly gateway: string | null }
export interface SwitchNode extends Box {
  readonly key: string; readonly dpid: string; readonly name: string; readonly detail: string; readonly connected: boolean; readonly subnet: string | null;
}
export interface HostNode extends Box {
  readonly key: string; readonly eid: string | null; readonly lines: string[]; readonly away: boolean; readonly lost: boolean; readonly more?: boolean;
  readonly mac?: string; readonly home?: string; readonly subnet?: string; readonly dpid?: string; readonly port?: number; readonly title?: string;
}
export interface Link { readonly key: string; readonly kind: 'router' | 'port' | 'home'; readonly d: string; readonly label: string; readonly lx?: number; readonly ly?: number; readonly anchor?: 'start' | 'end' }
export interface TopologyLayout {
  readonly width: number; readonly height: number; readonly router: Box;
  readonly subnets: SubnetBox[]; readonly switches: SwitchNode[]; readonly hosts: HostNode[]; readonly links: Link[];
}
export function layoutTopology(
  input: { readonly subnets: readonly SubnetView[]; readonly switches: readonly Pick<SwitchView, 'dpid' | 'bridge' | 'routerPort'>[]; readonly bindings: readonly BindingView[] },
  options?: { width?: number },
): TopologyLayout;
