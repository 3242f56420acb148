// Ethernet / ARP / RARP / IPv4 / TCP / UDP / ICMP: parsing (never throws) and building.

export * from './address.js';
export * from './arp.js';
export * from './ethernet.js';
export * from './ipv4.js';
export * from './packet.js';
export * from './transport.js';
export { internetChecksum, type Layer, type ParseError, type ParseResult } from './result.js';
