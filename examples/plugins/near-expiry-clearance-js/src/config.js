// The region's configuration: the same TOML table, the same rules and the
// same error paths as the Rust twin (examples/plugins/near-expiry-clearance).
//
//   promotion_id = "r01-clearance"
//   region = "r01"
//   steps = [{ days_left = 90, off_bp = 1000 }, { days_left = 30, off_bp = 2500 }]

/** The largest discount a step may give (HQ caps all promotions of an
 * order together at 30% of the subtotal by default). */
export const MAX_OFF_BP = 9000;
/** Steps further from the best-before date than this are a typo. */
export const MAX_DAYS_LEFT = 3650;

/** JSON Schema (draft 2020-12) of the configuration, for `describe`. */
export const CONFIG_SCHEMA = JSON.stringify({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Config',
  type: 'object',
  properties: {
    promotion_id: { description: 'Tags every adjustment this plugin gives.', type: 'string' },
    name: {
      description: 'Shown in descriptions instead of the id when set, e.g. "临期清仓".',
      type: ['string', 'null'],
    },
    region: { description: 'The one region whose orders get the clearance (`order.region`).', type: 'string' },
    steps: {
      description:
        "From the furthest from the best-before date to the nearest: each step's `days_left` fewer than the one before, its `off_bp` more.",
      type: 'array',
      items: {
        type: 'object',
        properties: {
          days_left: { type: 'integer', minimum: 0 },
          off_bp: { type: 'integer', minimum: 0 },
        },
        required: ['days_left', 'off_bp'],
        additionalProperties: false,
      },
    },
  },
  required: ['promotion_id', 'region', 'steps'],
  additionalProperties: false,
});

const FIELDS = ['promotion_id', 'name', 'region', 'steps'];
const STEP_FIELDS = ['days_left', 'off_bp'];

/**
 * Parses and validates a configuration (JSON text). Returns
 * `{ config }` or `{ errors: [{ path, message }] }` with every problem
 * found, each located by a JSON pointer.
 */
export function parseConfig(json) {
  let raw;
  try {
    raw = JSON.parse(json.trim() === '' ? '{}' : json);
  } catch (e) {
    return { errors: [{ path: '', message: `not JSON: ${e.message}` }] };
  }
  const errors = [];
  const problem = (path, message) => errors.push({ path, message });
  if (!isObject(raw)) {
    problem('', 'must be a table');
    return { errors };
  }
  unknownFields(raw, FIELDS, '', problem);

  const text = (field, required) => {
    const value = raw[field];
    if (value === undefined || value === null) {
      if (required) problem(`/${field}`, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      problem(`/${field}`, 'must be a string');
      return undefined;
    }
    if (value.trim() === '') problem(`/${field}`, required ? 'must not be empty' : 'must not be empty when set');
    return value;
  };
  const promotionId = text('promotion_id', true);
  const name = text('name', false);
  const region = text('region', true);

  const steps = [];
  if (!Array.isArray(raw.steps)) {
    problem('/steps', raw.steps === undefined ? 'is required' : 'must be an array of steps');
  } else if (raw.steps.length === 0) {
    problem('/steps', 'at least one step is needed');
  } else {
    raw.steps.forEach((step, i) => {
      const at = (field) => `/steps/${i}/${field}`;
      if (!isObject(step)) {
        problem(`/steps/${i}`, 'must be a table with days_left and off_bp');
        return;
      }
      unknownFields(step, STEP_FIELDS, `/steps/${i}`, problem);
      const daysLeft = whole(step.days_left, at('days_left'), problem);
      const offBp = whole(step.off_bp, at('off_bp'), problem);
      if (daysLeft !== undefined && !(daysLeft >= 1 && daysLeft <= MAX_DAYS_LEFT)) {
        problem(at('days_left'), `must be 1..=${MAX_DAYS_LEFT} days, got ${daysLeft}`);
      }
      if (offBp !== undefined && !(offBp >= 1 && offBp <= MAX_OFF_BP)) {
        problem(at('off_bp'), `must be 1..=${MAX_OFF_BP} basis points, got ${offBp}`);
      }
      const before = steps[i - 1];
      if (before && daysLeft !== undefined && before.daysLeft !== undefined && daysLeft >= before.daysLeft) {
        problem(
          at('days_left'),
          `must be fewer than the previous step's ${before.daysLeft} (steps go towards the best-before date), got ${daysLeft}`,
        );
      }
      if (before && offBp !== undefined && before.offBp !== undefined && offBp <= before.offBp) {
        problem(
          at('off_bp'),
          `must be more than the previous step's ${before.offBp} (the discount rises as the best-before date nears), got ${offBp}`,
        );
      }
      steps.push({ daysLeft, offBp });
    });
  }
  if (errors.length > 0) return { errors };
  return { config: { promotionId, label: name ?? promotionId, region, steps } };
}

/** The step nearest the best-before date that a lot with `daysLeft` whole
 * days to go has reached, if any. */
export function stepFor(config, daysLeft) {
  for (let i = config.steps.length - 1; i >= 0; i--) {
    if (daysLeft <= BigInt(config.steps[i].daysLeft)) return config.steps[i];
  }
  return undefined;
}

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownFields(table, known, path, problem) {
  for (const key of Object.keys(table)) {
    if (!known.includes(key)) problem(`${path}/${key}`, `unknown field \`${key}\`, expected one of ${known.join(', ')}`);
  }
}

function whole(value, path, problem) {
  if (value === undefined) {
    problem(path, 'is required');
    return undefined;
  }
  if (!Number.isInteger(value)) {
    problem(path, `must be a whole number, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}
