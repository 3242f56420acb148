// The case-study topology as config: three subnets A, B, C, one edge each, router on port 1.

import { parseSubnets, SubnetMap, type Subnet } from '../../../controller/mobility/index.js';

export const RAW_SUBNETS = [
  { name: 'A', prefix: '10.0.1.0/24', gateway: { ip: '10.0.1.1', mac: '02:00:00:00:01:01' }, edges: [{ dpid: '0000000000000001', routerPort: 1 }], locatorPool: '10.0.1.200-10.0.1.250' },
  { name: 'B', prefix: '10.0.2.0/24', gateway: { ip: '10.0.2.1', mac: '02:00:00:00:02:01' }, edges: [{ dpid: 2, routerPort: 1 }], locatorPool: '10.0.2.200-10.0.2.250' },
  { name: 'C', prefix: '10.0.3.0/24', gateway: { ip: '10.0.3.1', mac: '02:00:00:00:03:01' }, edges: [{ dpid: '0x3', routerPort: 1 }], locatorPool: '10.0.3.192/27' },
];

export function caseStudySubnets(): Subnet[] {
  return parseSubnets(RAW_SUBNETS);
}

export function caseStudyMap(): SubnetMap {
  return new SubnetMap(caseStudySubnets());
}

export const VM = { eid: '10.0.1.10', mac: '02:00:00:00:01:0a' } as const;
