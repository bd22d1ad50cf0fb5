/**
 * The documentation and validation rules of every parameter (docs/methodology.md section 6): its path in
 * {@link Params}, its JSON type, the range it must lie in, its unit and the source of its default.
 * `loadParams` validates against this table; it is also the parameter reference for users.
 */

/** JSON shape of a parameter. `perUnderlying`: an object of underlying (or `other`) → number. */
export type ParamKind = 'number' | 'integer' | 'boolean' | 'perUnderlying' | 'numberList';

export interface ParamSpec {
  /** path in Params, e.g. `deribitPm.priceRange`; a file may also spell each part in snake_case */
  path: string;
  kind: ParamKind;
  /** lower bound and whether it is included (numbers, every value of a map or list) */
  min?: number;
  minIncluded?: boolean;
  max?: number;
  maxIncluded?: boolean;
  /** the list's values must not be 0 */
  nonZero?: boolean;
  unit: string;
  source: string;
  doc: string;
}

const P = (
  path: string,
  kind: ParamKind,
  range: Partial<ParamSpec>,
  unit: string,
  source: string,
  doc: string,
): ParamSpec => ({ path, kind, ...range, unit, source, doc });
const positive = { min: 0, minIncluded: false };
const nonNegative = { min: 0, minIncluded: true };
const open01 = { min: 0, minIncluded: false, max: 1, maxIncluded: false };
const halfOpen01 = { min: 0, minIncluded: false, max: 1, maxIncluded: true };
const closed01 = { min: 0, minIncluded: true, max: 1, maxIncluded: true };
const positiveInt = { min: 1, minIncluded: true };

/** Every parameter, in the order of docs/methodology.md section 6. */
export const PARAM_SPECS: readonly ParamSpec[] = [
  P('version', 'integer', {}, '-', 'engine', 'parameter file format version; must equal PARAMS_VERSION (1)'),
  P(
    'deribitPm.priceRange',
    'perUnderlying',
    open01,
    'relative move (0.16 = 16%)',
    'Deribit API examples (2024 BTC, 2026 ETH); other: engine convention',
    'R_u: largest move of the standard grid',
  ),
  // (at most 1,000: 2B+1 price moves times the vol shifts are the scenarios; 1e9 overflowed a typed array, exit 1)
  P(
    'deribitPm.bucketsCount',
    'integer',
    { ...positiveInt, max: 1000, maxIncluded: true },
    'count',
    'Deribit',
    'B: the grid has moves R·j/B for j = −B..B',
  ),
  P('deribitPm.volRangeUp', 'perUnderlying', positive, 'relative vol shift', 'Deribit', 'vol up shock size'),
  P('deribitPm.volRangeDown', 'number', positive, 'relative vol shift', 'Deribit', 'vol down shock size'),
  P('deribitPm.shortTermVegaPower', 'number', nonNegative, 'exponent', 'Deribit', 'p in (30/d)^p for d < 30 days'),
  P('deribitPm.longTermVegaPower', 'number', nonNegative, 'exponent', 'Deribit', 'p in (30/d)^p for d ≥ 30 days'),
  P(
    'deribitPm.minVolForShockUp',
    'number',
    nonNegative,
    'vol (decimal)',
    'Deribit (use: engine convention)',
    'floor of σ in the vol up shock',
  ),
  P(
    'deribitPm.extendedTableFactor',
    'number',
    nonNegative,
    'factor',
    'Deribit',
    'extended weight w = factor · R_u / |m|',
  ),
  P(
    'deribitPm.extendedMoves',
    'numberList',
    { min: -1, minIncluded: false, nonZero: true },
    'relative moves',
    'Deribit',
    'moves of the extended scenarios (ids after the standard grid)',
  ),
  P(
    'deribitPm.annualisedMoveRisk',
    'perUnderlying',
    nonNegative,
    'per year (relative)',
    'Deribit',
    'roll shock rate, keyed by unit currency',
  ),
  P(
    'deribitPm.minAnnualisedMove',
    'perUnderlying',
    nonNegative,
    'relative',
    'Deribit',
    'roll shock floor, keyed by unit currency',
  ),
  P('deribitPm.mmFactor', 'number', halfOpen01, 'factor', 'Deribit', 'MM = mm_factor · risk matrix margin'),
  P(
    'deribitPm.pnlOffset',
    'number',
    closed01,
    'factor',
    'Deribit S:PM example',
    'share of a gain of one underlying that offsets losses of another',
  ),
  P(
    'span.psr',
    'perUnderlying',
    open01,
    'relative move',
    'engine convention',
    'price scan range when no history is given',
  ),
  P('span.vsr', 'perUnderlying', open01, 'relative vol shift', 'engine convention', 'vol scan range (σ · (1 ± vsr))'),
  P('span.extremeMultiple', 'number', positive, 'multiple of PSR', 'SPAN (McMillan)', 'extreme move = multiple · PSR'),
  P('span.extremeCover', 'number', closed01, 'fraction', 'SPAN (CME: 35%)', 'weight of the extreme scenarios'),
  P(
    'span.somRate',
    'number',
    nonNegative,
    'fraction of spot per short option',
    'engine convention',
    'short option minimum',
  ),
  P(
    'span.imFactor',
    'number',
    { min: 1, minIncluded: true },
    'factor',
    'CME practice',
    'IM = im_factor · MM + liquidity add-on',
  ),
  P(
    'span.psrQuantile',
    'number',
    halfOpen01,
    'probability',
    'engine convention (docs/methodology.md §4b)',
    'nearest-rank quantile of |h-day log returns| for PSR from history',
  ),
  P('span.psrHorizonDays', 'integer', positiveInt, 'days', 'docs/methodology.md §4b', 'h of the PSR returns'),
  P(
    'span.psrWindowDays',
    'integer',
    { min: 2, minIncluded: true },
    'daily closes',
    'docs/methodology.md §4b',
    'closes used for PSR (must exceed the horizon)',
  ),
  P('var.alpha', 'number', open01, 'probability', 'OCC STANS', 'ES / VaR confidence'),
  P(
    'var.horizonDays',
    'integer',
    positiveInt,
    'days',
    'OCC STANS',
    'h: return horizon of historical and Monte Carlo scenarios',
  ),
  P(
    'var.lookbackDays',
    'integer',
    positiveInt,
    'scenario dates',
    'engine convention',
    'historical scenarios: the last N dates',
  ),
  P('var.ewmaLambda', 'number', open01, 'decay', 'RiskMetrics', 'EWMA variance decay λ'),
  P(
    'var.ewmaSeedDays',
    'integer',
    positiveInt,
    'daily returns',
    'docs/methodology.md §3c',
    'EWMA seed: mean of the first N squared returns',
  ),
  P(
    'var.filtered',
    'boolean',
    {},
    '-',
    'docs/methodology.md §3c',
    'rescale historical returns by current / past EWMA vol',
  ),
  P('var.mcScenarios', 'integer', positiveInt, 'count', 'engine convention', 'Monte Carlo scenario count'),
  P(
    'var.mcDegreesOfFreedom',
    'integer',
    // (at most 1,000: each scenario draws ν normals; 1e9 ran for ever)
    { min: 3, minIncluded: true, max: 1000, maxIncluded: true },
    'ν',
    'docs/methodology.md §3d',
    'Student-t degrees of freedom (integer > 2: χ²_ν is a sum of ν squared normals)',
  ),
  P('var.mcSeed', 'integer', nonNegative, 'seed', 'engine convention', 'Monte Carlo seed (0 ≤ seed < 2^53)'),
  P(
    'var.volPriceElasticity',
    'perUnderlying',
    {},
    'elasticity β',
    'engine convention',
    'Monte Carlo vol multiplier g = exp(β · r)',
  ),
  P('var.mmFactor', 'number', halfOpen01, 'factor', 'engine convention', 'MM = mm_factor · ES'),
  P(
    'standard.imBase',
    'perUnderlying',
    nonNegative,
    'fraction of notional',
    'Deribit standard margin (Jan 2022)',
    'futures IM base rate',
  ),
  P(
    'standard.mmBase',
    'perUnderlying',
    nonNegative,
    'fraction of notional',
    'Deribit standard margin (Jan 2022)',
    'futures MM base rate',
  ),
  P(
    'standard.imPerCoin',
    'perUnderlying',
    nonNegative,
    'fraction per coin',
    'Deribit standard margin (Jan 2022)',
    'futures size add-on per coin of position',
  ),
  P(
    'liquidity.oiShare',
    'number',
    halfOpen01,
    'fraction of open interest',
    'engine convention',
    'size above which the liquidity add-on scales up',
  ),
  P(
    'liquidity.defaultHalfSpread',
    'number',
    nonNegative,
    'fraction of the underlying',
    'engine convention',
    'half spread when no quotes (5 bp)',
  ),
  P(
    'liquidity.maxConcentration',
    'number',
    { min: 1, minIncluded: true },
    'factor',
    'engine convention',
    'cap of the concentration factor: c = min(max_concentration, max(1, |q| / (oi_share · OI)))',
  ),
];
