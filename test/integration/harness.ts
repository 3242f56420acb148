// A controller's switch layer on an ephemeral port, for integration tests against real OVS.

import { createLogger, silentLogger, type Logger } from '../../controller/log.js';
import { SwitchListener, SwitchRegistry, type ConnectionOptions, type SwitchConnection } from '../../controller/switch/index.js';
import { waitFor } from '../lib/wait.js';

export interface TestController {
  readonly registry: SwitchRegistry;
  readonly listener: SwitchListener;
  readonly port: number;
  stop(): Promise<void>;
}

/** SEAMLESS_TEST_LOG=debug shows the controller's log while debugging a test. */
function testLogger(): Logger {
  const level = process.env.SEAMLESS_TEST_LOG;
  return level === 'debug' || level === 'info' || level === 'trace' ? createLogger({ level, format: 'pretty' }) : silentLogger;
}

export async function startTestController(options: Partial<ConnectionOptions> & { port?: number } = {}): Promise<TestController> {
  const { port = 0, ...connection } = options;
  const log = testLogger();
  const registry = new SwitchRegistry(log);
  const listener = new SwitchListener({
    host: '127.0.0.1', port,
    connection: { echoIntervalMs: 5000, echoTimeoutMs: 15000, requestTimeoutMs: 10000, ...connection },
  }, registry, log);
  const address = await listener.listen();
  return {
    registry, listener, port: address.port,
    async stop() {
      await listener.close();
      registry.complete();
    },
  };
}

/** Waits until the switch with this datapath id is in MAIN (OVS connects within a second or so). */
export function waitForSwitch(registry: SwitchRegistry, dpid: bigint, timeoutMs = 15000): Promise<SwitchConnection> {
  return waitFor(() => registry.get(dpid), { what: `switch ${dpid.toString(16)} to reach MAIN`, timeoutMs, intervalMs: 50 });
}
