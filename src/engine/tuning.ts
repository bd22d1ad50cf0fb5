/**
 * Every machine-measured constant of the engine, in one place. Each was chosen by measurement on the
 * shared 2-core CPU-only machine (AMD EPYC, Node 20); the measurements and the alternatives tried are in
 * bench/README.md, "Tuning constants", with the records of bench/results/ they come from. Change one
 * only with an A/B run (`node dist/bench/ab.js`, ≥ 20 rounds) on the workloads it affects.
 *
 * The margin models and the methodology never read these: they change speed and memory, never a number
 * (the cpu backend's results are the same bit for bit whatever the block and task sizes, since each
 * group's sum runs in one order; bench/fingerprint.ts shows it).
 */

/**
 * cpu aggregation: scenarios per block of the P&L matrix a group's sums walk at a time (1,024; 128 to
 * 2,048 measured: 189 to 357 M multiply-adds/s on one thread). Record aggregation-2026-11-25T16-12-20-230Z.
 */
export const CPU_AGGREGATE_SCENARIO_BLOCK = 1024;

/**
 * cpu aggregation in WebAssembly (kernels/aggregateWasm.ts, what the pool workers run): scenarios per block of
 * the P&L matrix, copied contiguous per task (the rows a task uses: ~1,609 of var's 3,214, so 13 MiB a block
 * at 1,024). One thread, var-mc-shaped book (3,000 groups × ~10 entries, top 100): 256 to 1,024 within noise,
 * 16 to 128 slower (per-group overhead: 425 → 906 M multiply-adds/s at 40 entries a group, against 1,174–1,252
 * at 256–1,024); eod end to end, both workers, 5 A/B rounds at load 12–15: 1,024 14.9 s of process CPU, 256
 * 15.5 s. bench/README.md, "WebAssembly aggregation".
 */
export const CPU_AGGREGATE_WASM_SCENARIO_BLOCK = 1024;

/**
 * cpu pool: tasks per worker a job is cut into when the pool has more than one worker (load balance
 * against heavy-tailed groups); a pool of one worker runs each job as one task. Record
 * eod-2026-11-26T01-17-38-623Z.
 */
export const CPU_TASKS_PER_WORKER = 8;

/**
 * cpu pool: the least work worth a task of its own. A task costs its hand-over (posting, a worker's
 * wake-up and answer: tens of microseconds) whatever its size, and the distance search and the cascade
 * send many small jobs (one account's instruments, a round's few liquidated accounts): a job is cut
 * into at most work ÷ this tasks (at least one), up to CPU_TASKS_PER_WORKER per worker. Aggregation
 * work is counted in multiply-adds (entries × scenarios), revaluation in instrument-scenario
 * evaluations (each some 50 times a multiply-add). Measured by the cascade sweep on the 10,000-account
 * book (bench/README.md, "Tuning constants").
 */
export const CPU_MIN_TASK_MULTIPLY_ADDS = 1 << 18;
export const CPU_MIN_TASK_EVALUATIONS = 1 << 13;

/**
 * A run checks the margin rows it has handed to the report (ReportSession.checkNext) while it waits for the
 * aggregation of a model of at least this many scenarios; otherwise its end does, between the last rows and
 * the COMMIT. eod (100,000 accounts): var-hs's 1,000 scenarios aggregate for ~0.4 s and var-mc's 10,000 for ~3 s,
 * a block's checks take 25–50 ms, and the ~130 ms of checks the end did before the COMMIT are gone from it.
 * intraday's 35 and 16 scenarios aggregate in ~60 ms: a block's checks started then outlast the aggregation and
 * delay the next model, while at the end they overlap the report thread's last appends.
 */
export const CHECK_WHILE_AGGREGATING_MIN_SCENARIOS = 1000;

/** cpu revaluation: scenarios per tile of one task. Record revaluation-2026-11-25T16-43-22-512Z. */
export const CPU_REVALUE_SCENARIO_TILE = 4096;

/**
 * gpu.js revaluation: scenarios × instruments per kernel run (each ≤ the texture side, 16,384). Record
 * revaluation-2026-11-25T16-43-22-512Z.
 */
export const DEVICE_REVALUE_TILE_SCENARIOS = 4096;
export const DEVICE_REVALUE_TILE_INSTRUMENTS = 2048;

/**
 * gpu.js aggregation: scenarios per device block and groups per kernel run. Record
 * aggregation-2026-11-25T16-42-48-036Z.
 */
export const DEVICE_AGGREGATE_SCENARIO_BLOCK = 1024;
export const DEVICE_AGGREGATE_GROUP_BLOCK = 4096;

/**
 * The same on webgpu, which has no texture side (gpu.js folds a long dispatch): each group block costs two
 * kernel runs and an awaited readback, so fewer, larger blocks than gl's. Swept on the H200 (3,214 rows ×
 * 10,000 scenarios, 100,000 groups, 1.0 M entries; bench/results/device/h200-2026-12-04T16-50-sweep/sweep.log),
 * seconds without top k / with top 100: 1,024 × 4,096 0.69 / 12.97; 2,048 × 8,192 0.57 / 12.24;
 * 2,048 × 32,768 0.63 / 13.39; 4,096 × 16,384 0.63 / 15.54; 1,024 × 65,536 0.86 / 18.81. Then, with top k, p
 * was read back (~1 GB/s through Dawn's mapAsync) and heaped on the host: 90 % of the time. The device finds
 * the top k since (gpuAggregate.ts topKOnDevice); not re-swept on a GPU since.
 */
export const WEBGPU_AGGREGATE_SCENARIO_BLOCK = 2048;
export const WEBGPU_AGGREGATE_GROUP_BLOCK = 8192;

/**
 * Steps of each stage of webgpu's k-th largest loss per group and block (kernels/aggregate.ts
 * blockKthLossKernel): bisection (from the block's loss range to adjacent floats: ≤ ~45 float32 steps for
 * losses of ≤ 1e4 down to 1e-6), then one distinct loss a step from the top of what is left. A group not done
 * in both is heaped from its p on the host (exact either way).
 */
export const DEVICE_TOPK_ITERATIONS = 64;

/**
 * auto runs a phase on a device only where the device measured more than this many times the cpu pool's
 * rate (createBackend.ts): on a device a phase runs on the main thread when the run asks for it, while the
 * pool revalues during the book's load and aggregates beside the margin's host work, and the device's phase
 * hands the pool a float32 matrix. eod on the 2-core machine, 4 alternating rounds: auto with revaluation on
 * gl (measured 1.28× cpu's rate) 4.47–4.69 s, cpu 3.83–3.88 s (bench/README.md "Session 21").
 */
export const DEVICE_ADVANTAGE = 2;

/**
 * `auto` does not start a device for a run below both sizes: a gl device's start-up with self-check and
 * measurement costs 0.3–0.8 s, in which the cpu pool revalues ~5 M instrument-scenario pairs and
 * aggregates ~1,000 scenarios of a 1 M-position book. Record intraday-2026-11-26T01-10-52-116Z. (On the
 * 16-core H200 machine webgpu's start-up with the larger measurement there cost eod 1.4–1.7 s: bench/README.md
 * "Session 21".)
 */
export const DEVICE_MIN_WORK = {
  evaluations: 5_000_000,
  scenarios: 1_024,
  note: 'below 5,000,000 evaluations and 1,024 scenarios the cpu pool finishes before a device has started (bench/README.md)',
} as const;

/**
 * A run with at most this many scenarios in all that writes a report sizes its cpu pool (when --workers is
 * not given) to the cores less one, leaving the report thread a core (intraday: 1.26–1.32 s with one pool
 * worker against 1.32–1.44 s with two); a larger run is aggregation-bound and keeps every core. Record
 * intraday-2026-11-25T20-51-14-686Z.
 */
export const REPORT_CORE_MAX_SCENARIOS = 1_024;

/**
 * Rows per DuckDB row group of a report opened for writing (DuckDB's default is 122,880): a run's 100,000
 * account keys, appended during the load, fill two groups and are compressed then rather than at COMMIT
 * (intraday: COMMIT and close 30 ms shorter; the file 4 % larger). Record intraday-2026-11-26T00-29-31-618Z.
 */
export const REPORT_ROW_GROUP_SIZE = 49_152;
