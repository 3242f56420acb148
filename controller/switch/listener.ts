// The OpenFlow TCP listener: accepts switches, gives each its own SwitchConnection, and closes
// them all on shutdown. A failure in one connection stays in that connection.

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { SwitchConnection, type ConnectionOptions } from './connection.js';
import type { SwitchRegistry } from './registry.js';

export interface SwitchListenerOptions {
  readonly host: string;
  /** 0 picks a free port (see address()). */
  readonly port: number;
  readonly connection: ConnectionOptions;
}

export class SwitchListener {
  private readonly server: Server;
  private readonly connections = new Set<SwitchConnection>();
  private listening = false;

  constructor(private readonly options: SwitchListenerOptions, private readonly registry: SwitchRegistry, private readonly log: Logger) {
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (error) => this.log.error('OpenFlow listener error', { error }));
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        this.listening = true;
        const address = this.address();
        this.log.info('OpenFlow listener started', { host: address.address, port: address.port });
        resolve(address);
      });
    });
  }

  /** The bound address (the real port when listening on port 0). */
  address(): AddressInfo {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the OpenFlow listener is not listening');
    return address;
  }

  /** Every open connection, in any state (the registry has only those in MAIN). */
  list(): SwitchConnection[] {
    return [...this.connections];
  }

  /** Stops accepting, closes every connection (rejecting their pending requests), and waits for them. */
  async close(): Promise<void> {
    const stopped = this.listening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve();
    this.listening = false;
    const closing = [...this.connections].map((sw) => {
      sw.close('controller shutting down');
      return sw.closed;
    });
    await Promise.all([stopped, ...closing]);
    this.log.info('OpenFlow listener stopped');
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true); // we batch writes per tick ourselves; Nagle would only add latency
    const sw = new SwitchConnection(socket, this.options.connection, this.log);
    this.connections.add(sw);
    void sw.closed.then(() => this.connections.delete(sw));
    try {
      this.registry.attach(sw);
      sw.start();
    } catch (error) {
      this.log.error('could not start a switch connection', { error });
      sw.close('start-up failed', { abort: true });
    }
  }
}
