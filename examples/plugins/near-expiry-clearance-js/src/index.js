// The component's exports: `chanhost:policy/promotion@0.2.0`, as the world
// `promotion-plugin` of wit/policy.wit declares it.
//
// componentize-js conventions: a function returning `result<T, E>` returns
// T, or throws `{ payload: E }` for the error case.

import { log } from 'chanhost:policy/host@0.2.0';
import { clearance } from './clearance.js';
import { CONFIG_SCHEMA, parseConfig } from './config.js';

/** Kept from `configure` for every later `apply` of this instance. */
let configured;

export const promotion = {
  describe() {
    return {
      name: 'near-expiry-clearance-js',
      version: '1.0.0',
      kind: 'promotion',
      configSchema: CONFIG_SCHEMA,
      summary:
        'A percentage off the lines of lots flagged near expiry, rising as the best-before date nears, for one region (JavaScript).',
    };
  },

  configure(json) {
    const { config, errors } = parseConfig(json);
    if (errors) throw { payload: errors };
    configured = config;
  },

  apply(input) {
    if (!configured) {
      throw {
        payload: {
          code: 'not-configured',
          message: 'the host made a policy call before configuring this instance',
        },
      };
    }
    return clearance(configured, input, log);
  },
};
