// Several controllers, one fabric (docs/cluster.md): which switches this replica may write, and how
// the replicas that master the switches of one move agree that its receive side is everywhere before
// any of them installs its send side (make-before-break across replicas). One process alone writes
// every switch and needs no agreement.

export interface SwitchRoles {
  /** This replica masters the switch (OpenFlow role confirmed): it may send FLOW_MODs and PACKET_OUTs. */
  canWrite(dpid: bigint): boolean;
}

export const SOLE_CONTROLLER: SwitchRoles = { canWrite: () => true };

/** The receive side of one binding version, confirmed per switch by its master. */
export interface MoveCoordination {
  /** This replica confirmed the receive side of (binding, version) on these switches (the ones it masters). */
  confirmReceive(bindingId: number, version: number, dpids: readonly bigint[]): Promise<void>;
  /**
   * Resolves true once every switch of `dpids` has it confirmed (by whichever replica masters it),
   * false after `timeoutMs` (a replica died: its switches' next master reconciles them).
   */
  receiveConfirmed(bindingId: number, version: number, dpids: readonly bigint[], timeoutMs: number): Promise<boolean>;
  /** The move is over for this replica: its confirmations can go. */
  done(bindingId: number, version: number): void;
}
