// OFPT_ERROR types and the code family of each type (OpenFlow 1.3.5 section 7.4.4), spec names
// verbatim, plus errorName() for logs.

import * as self from './error-codes.js';

export const OFPET_HELLO_FAILED = 0;
export const OFPET_BAD_REQUEST = 1;
export const OFPET_BAD_ACTION = 2;
export const OFPET_BAD_INSTRUCTION = 3;
export const OFPET_BAD_MATCH = 4;
export const OFPET_FLOW_MOD_FAILED = 5;
export const OFPET_GROUP_MOD_FAILED = 6;
export const OFPET_PORT_MOD_FAILED = 7;
export const OFPET_TABLE_MOD_FAILED = 8;
export const OFPET_QUEUE_OP_FAILED = 9;
export const OFPET_SWITCH_CONFIG_FAILED = 10;
export const OFPET_ROLE_REQUEST_FAILED = 11;
export const OFPET_METER_MOD_FAILED = 12;
export const OFPET_TABLE_FEATURES_FAILED = 13;
export const OFPET_EXPERIMENTER = 0xffff;

export const OFPHFC_INCOMPATIBLE = 0;
export const OFPHFC_EPERM = 1;

export const OFPBRC_BAD_VERSION = 0;
export const OFPBRC_BAD_TYPE = 1;
export const OFPBRC_BAD_MULTIPART = 2;
export const OFPBRC_BAD_EXPERIMENTER = 3;
export const OFPBRC_BAD_EXP_TYPE = 4;
export const OFPBRC_EPERM = 5;
export const OFPBRC_BAD_LEN = 6;
export const OFPBRC_BUFFER_EMPTY = 7;
export const OFPBRC_BUFFER_UNKNOWN = 8;
export const OFPBRC_BAD_TABLE_ID = 9;
export const OFPBRC_IS_SLAVE = 10;
export const OFPBRC_BAD_PORT = 11;
export const OFPBRC_BAD_PACKET = 12;
export const OFPBRC_MULTIPART_BUFFER_OVERFLOW = 13;

export const OFPBAC_BAD_TYPE = 0;
export const OFPBAC_BAD_LEN = 1;
export const OFPBAC_BAD_EXPERIMENTER = 2;
export const OFPBAC_BAD_EXP_TYPE = 3;
export const OFPBAC_BAD_OUT_PORT = 4;
export const OFPBAC_BAD_ARGUMENT = 5;
export const OFPBAC_EPERM = 6;
export const OFPBAC_TOO_MANY = 7;
export const OFPBAC_BAD_QUEUE = 8;
export const OFPBAC_BAD_OUT_GROUP = 9;
export const OFPBAC_MATCH_INCONSISTENT = 10;
export const OFPBAC_UNSUPPORTED_ORDER = 11;
export const OFPBAC_BAD_TAG = 12;
export const OFPBAC_BAD_SET_TYPE = 13;
export const OFPBAC_BAD_SET_LEN = 14;
export const OFPBAC_BAD_SET_ARGUMENT = 15;

export const OFPBIC_UNKNOWN_INST = 0;
export const OFPBIC_UNSUP_INST = 1;
export const OFPBIC_BAD_TABLE_ID = 2;
export const OFPBIC_UNSUP_METADATA = 3;
export const OFPBIC_UNSUP_METADATA_MASK = 4;
export const OFPBIC_BAD_EXPERIMENTER = 5;
export const OFPBIC_BAD_EXP_TYPE = 6;
export const OFPBIC_BAD_LEN = 7;
export const OFPBIC_EPERM = 8;

export const OFPBMC_BAD_TYPE = 0;
export const OFPBMC_BAD_LEN = 1;
export const OFPBMC_BAD_TAG = 2;
export const OFPBMC_BAD_DL_ADDR_MASK = 3;
export const OFPBMC_BAD_NW_ADDR_MASK = 4;
export const OFPBMC_BAD_WILDCARDS = 5;
export const OFPBMC_BAD_FIELD = 6;
export const OFPBMC_BAD_VALUE = 7;
export const OFPBMC_BAD_MASK = 8;
export const OFPBMC_BAD_PREREQ = 9;
export const OFPBMC_DUP_FIELD = 10;
export const OFPBMC_EPERM = 11;

export const OFPFMFC_UNKNOWN = 0;
export const OFPFMFC_TABLE_FULL = 1;
export const OFPFMFC_BAD_TABLE_ID = 2;
export const OFPFMFC_OVERLAP = 3;
export const OFPFMFC_EPERM = 4;
export const OFPFMFC_BAD_TIMEOUT = 5;
export const OFPFMFC_BAD_COMMAND = 6;
export const OFPFMFC_BAD_FLAGS = 7;

export const OFPGMFC_GROUP_EXISTS = 0;
export const OFPGMFC_INVALID_GROUP = 1;
export const OFPGMFC_WEIGHT_UNSUPPORTED = 2;
export const OFPGMFC_OUT_OF_GROUPS = 3;
export const OFPGMFC_OUT_OF_BUCKETS = 4;
export const OFPGMFC_CHAINING_UNSUPPORTED = 5;
export const OFPGMFC_WATCH_UNSUPPORTED = 6;
export const OFPGMFC_LOOP = 7;
export const OFPGMFC_UNKNOWN_GROUP = 8;
export const OFPGMFC_CHAINED_GROUP = 9;
export const OFPGMFC_BAD_TYPE = 10;
export const OFPGMFC_BAD_COMMAND = 11;
export const OFPGMFC_BAD_BUCKET = 12;
export const OFPGMFC_BAD_WATCH = 13;
export const OFPGMFC_EPERM = 14;

export const OFPPMFC_BAD_PORT = 0;
export const OFPPMFC_BAD_HW_ADDR = 1;
export const OFPPMFC_BAD_CONFIG = 2;
export const OFPPMFC_BAD_ADVERTISE = 3;
export const OFPPMFC_EPERM = 4;

export const OFPTMFC_BAD_TABLE = 0;
export const OFPTMFC_BAD_CONFIG = 1;
export const OFPTMFC_EPERM = 2;

export const OFPQOFC_BAD_PORT = 0;
export const OFPQOFC_BAD_QUEUE = 1;
export const OFPQOFC_EPERM = 2;

export const OFPSCFC_BAD_FLAGS = 0;
export const OFPSCFC_BAD_LEN = 1;
export const OFPSCFC_EPERM = 2;

export const OFPRRFC_STALE = 0;
export const OFPRRFC_UNSUP = 1;
export const OFPRRFC_BAD_ROLE = 2;

export const OFPMMFC_UNKNOWN = 0;
export const OFPMMFC_METER_EXISTS = 1;
export const OFPMMFC_INVALID_METER = 2;
export const OFPMMFC_UNKNOWN_METER = 3;
export const OFPMMFC_BAD_COMMAND = 4;
export const OFPMMFC_BAD_FLAGS = 5;
export const OFPMMFC_BAD_RATE = 6;
export const OFPMMFC_BAD_BURST = 7;
export const OFPMMFC_BAD_BAND = 8;
export const OFPMMFC_BAD_BAND_VALUE = 9;
export const OFPMMFC_OUT_OF_METERS = 10;
export const OFPMMFC_OUT_OF_BANDS = 11;

export const OFPTFFC_BAD_TABLE = 0;
export const OFPTFFC_BAD_METADATA = 1;
export const OFPTFFC_BAD_TYPE = 2;
export const OFPTFFC_BAD_LEN = 3;
export const OFPTFFC_BAD_ARGUMENT = 4;
export const OFPTFFC_EPERM = 5;

/** The code prefix of each error type (ofp_error_type -> its code enum). */
const CODE_FAMILY: Readonly<Record<number, readonly [typeName: string, codePrefix: string]>> = {
  [OFPET_HELLO_FAILED]: ['OFPET_HELLO_FAILED', 'OFPHFC_'],
  [OFPET_BAD_REQUEST]: ['OFPET_BAD_REQUEST', 'OFPBRC_'],
  [OFPET_BAD_ACTION]: ['OFPET_BAD_ACTION', 'OFPBAC_'],
  [OFPET_BAD_INSTRUCTION]: ['OFPET_BAD_INSTRUCTION', 'OFPBIC_'],
  [OFPET_BAD_MATCH]: ['OFPET_BAD_MATCH', 'OFPBMC_'],
  [OFPET_FLOW_MOD_FAILED]: ['OFPET_FLOW_MOD_FAILED', 'OFPFMFC_'],
  [OFPET_GROUP_MOD_FAILED]: ['OFPET_GROUP_MOD_FAILED', 'OFPGMFC_'],
  [OFPET_PORT_MOD_FAILED]: ['OFPET_PORT_MOD_FAILED', 'OFPPMFC_'],
  [OFPET_TABLE_MOD_FAILED]: ['OFPET_TABLE_MOD_FAILED', 'OFPTMFC_'],
  [OFPET_QUEUE_OP_FAILED]: ['OFPET_QUEUE_OP_FAILED', 'OFPQOFC_'],
  [OFPET_SWITCH_CONFIG_FAILED]: ['OFPET_SWITCH_CONFIG_FAILED', 'OFPSCFC_'],
  [OFPET_ROLE_REQUEST_FAILED]: ['OFPET_ROLE_REQUEST_FAILED', 'OFPRRFC_'],
  [OFPET_METER_MOD_FAILED]: ['OFPET_METER_MOD_FAILED', 'OFPMMFC_'],
  [OFPET_TABLE_FEATURES_FAILED]: ['OFPET_TABLE_FEATURES_FAILED', 'OFPTFFC_'],
  [OFPET_EXPERIMENTER]: ['OFPET_EXPERIMENTER', ''],
};

/** The switch-config error family under the alias the project brief uses. */
export const OFPSWITCHCONFIG = {
  OFPSCFC_BAD_FLAGS, OFPSCFC_BAD_LEN, OFPSCFC_EPERM,
} as const;

let codeNames: Map<string, Map<number, string>> | undefined;

/** Built lazily from this module's own exports, so the names above are the only list. */
function namesByPrefix(prefix: string): Map<number, string> | undefined {
  if (!codeNames) {
    codeNames = new Map();
    for (const [name, value] of Object.entries(self)) {
      if (typeof value !== 'number' || name.startsWith('OFPET_')) continue;
      const p = name.slice(0, name.indexOf('_') + 1);
      let m = codeNames.get(p);
      if (!m) codeNames.set(p, (m = new Map()));
      m.set(value, name);
    }
  }
  return codeNames.get(prefix);
}

/** 'OFPET_BAD_MATCH/OFPBMC_BAD_FIELD'; unknown numbers are shown as numbers. */
export function errorName(type: number, code: number): string {
  const family = CODE_FAMILY[type];
  if (!family) return `OFPET_${type}/${code}`;
  const [typeName, prefix] = family;
  if (prefix === '') return `${typeName}/exp_type=${code}`;
  return `${typeName}/${namesByPrefix(prefix)?.get(code) ?? String(code)}`;
}
