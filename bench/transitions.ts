import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { BenchRow, Suite } from './lib';

/**
 * Billed state transitions, counted from aws-local-stepfunctions' event log: every state entered
 * (states inside Parallel / Map branches included) plus every retry — Step Functions bills each
 * retry as a transition (AWS-FACTS: "every retry is a billed transition").
 */

type EventLog = AsyncGenerator<{ type: string; state?: { name: string } }>;

export interface TransitionCount {
  readonly transitions: number;
  readonly statesEntered: number;
  readonly retries: number;
  readonly path: string[];
}

export async function countTransitions(events: EventLog): Promise<TransitionCount> {
  let statesEntered = 0;
  let retries = 0;
  const path: string[] = [];
  for await (const event of events) {
    if (event.type === 'StateEntered') {
      statesEntered++;
      path.push(event.state?.name ?? '?');
    } else if (event.type === 'StateRetried') {
      retries++;
      path.push(`(retry ${event.state?.name ?? '?'})`);
    }
  }
  return { transitions: statesEntered + retries, statesEntered, retries, path };
}

/** Seconds a crawler takes, in polls: SDLF's stage B polls GetCrawler until READY. */
export const SDLF_CRAWLER_POLLS = 2;

/**
 * The baseline: one medallion run the SDLF way — stage A for bronze, stage B for silver and for gold
 * (bench/sdlf-style.asl.json), every task answered locally, the crawler READY on its
 * SDLF_CRAWLER_POLLS-th poll.
 */
export async function sdlfRun(): Promise<{ transitions: number; perStage: number[]; path: string[] }> {
  const defs = JSON.parse(
    readFileSync(join(process.cwd(), 'bench', 'sdlf-style.asl.json'), 'utf8'),
  ) as Record<string, StateMachineDefinition>;
  const perStage: number[] = [];
  const path: string[] = [];
  for (const stage of ['stageA', 'stageB', 'stageB'] as const) {
    let polls = 0;
    const ok = async () => ({});
    const execution = new StateMachine(defs[stage] as StateMachineDefinition, {
      validationOptions: { checkArn: false },
    }).run(
      { dataset: 'orders', partition: 'year=2024/month=01/day=15' },
      {
        overrides: {
          taskResourceLocalHandlers: {
            'Pre-update Catalog': ok,
            'Execute Light Transformation': ok,
            'Post-update Catalog': ok,
            'Process Data': async () => ({ JobRunState: 'SUCCEEDED' }),
            'Run Glue Crawler': ok,
            GetCrawler: async () => ({
              Crawler: { State: ++polls >= SDLF_CRAWLER_POLLS ? 'READY' : 'RUNNING' },
            }),
            Error: ok,
          },
          waitTimeOverrides: { 'Wait X Seconds': 0 },
        },
      },
    );
    const count = await countTransitions(execution.eventLogs as unknown as EventLog);
    await execution.result;
    perStage.push(count.transitions);
    path.push(`${stage}: ${count.path.join(' → ')}`);
  }
  return { transitions: perStage.reduce((a, b) => a + b, 0), perStage, path };
}

/**
 * One run of the real pipeline ASL (state-machines/medallion-pipeline.asl.json) through the one ASL
 * runner, with the real handlers of functions/* behind in-memory ports and scripted Glue jobs (the
 * state-machine test harness); `silverConcurrentRunFailures` makes the silver job throw
 * Glue.ConcurrentRunsExceededException that many times before it runs.
 */
export async function pipelineRun(
  silverConcurrentRunFailures: number,
): Promise<TransitionCount & { status: string }> {
  const { createHarness, ordersInput, runPipeline } = await import('../test/state-machines/harness');
  const h = createHarness();
  if (silverConcurrentRunFailures > 0)
    h.glue.silver = { kind: 'concurrent-runs', times: silverConcurrentRunFailures };
  const run = await runPipeline(h, ordersInput());
  const path: string[] = [];
  // The path as billed: each retry right after the state it retried.
  for (const visit of run.states) {
    path.push(visit.name);
    for (let i = 0; i < visit.retries; i++) path.push(`(retry ${visit.name})`);
  }
  return {
    transitions: run.transitions,
    statesEntered: run.path.length,
    retries: run.retries.length,
    path,
    status: run.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${run.status}: ${run.error ?? ''} ${run.cause ?? ''}`,
  };
}

/** Step Functions Standard: $0.025 per 1,000 state transitions (AWS-FACTS). */
export const USD_PER_TRANSITION = 0.025 / 1000;
const TRANSITIONS_TARGET = 10;
const CHEAPER_TARGET = 2.5;

const usd = (n: number) => `$${n.toFixed(3)}`;

export const transitionsSuite: Suite = {
  name: 'transitions',
  async run(): Promise<BenchRow[]> {
    // Counts, not times: one run of each is exact.
    const ok = await pipelineRun(0);
    const retried = await pipelineRun(2);
    const sdlf = await sdlfRun();
    for (const r of [ok, retried])
      if (r.status !== 'SUCCEEDED') throw new Error(`the local pipeline run did not succeed: ${r.status}`);
    const [okT, retriedT, sdlfT] = [ok.transitions, retried.transitions, sdlf.transitions];
    const sample = { ok, retried, sdlf };
    const sdlfText = `SDLF-style run: ${sdlfT} (stage A ${sdlf.perStage[0]} + stage B ${sdlf.perStage[1]} + stage B ${sdlf.perStage[2]}, crawler READY on poll ${SDLF_CRAWLER_POLLS})`;
    const perThousand = (t: number) => t * USD_PER_TRANSITION * 1000;
    const ratio = sdlfT / okT;
    return [
      {
        benchmark: 'state transitions',
        case: 'successful run',
        measured: `${okT} transitions: ${sample.ok.path.join(' → ')}`,
        baseline: sdlfText,
        target: `≤ ${TRANSITIONS_TARGET} on success`,
        met: okT <= TRANSITIONS_TARGET,
        values: {
          transitions: okT,
          statesEntered: sample.ok.statesEntered,
          retries: sample.ok.retries,
          path: sample.ok.path,
        },
        baselineValues: { transitions: sdlfT, perStage: sample.sdlf.perStage, path: sample.sdlf.path },
      },
      {
        benchmark: 'state transitions',
        case: 'run with 2 retries (silver Glue job: ConcurrentRunsExceededException twice)',
        measured: `${retriedT} transitions (${sample.retried.statesEntered} states entered + ${sample.retried.retries} retries)`,
        baseline: '—',
        target: '— (each retry is one billed transition)',
        met: null,
        values: {
          transitions: retriedT,
          statesEntered: sample.retried.statesEntered,
          retries: sample.retried.retries,
          path: sample.retried.path,
        },
      },
      {
        benchmark: 'Step Functions cost',
        case: 'per 1,000 runs ($0.025 per 1,000 transitions)',
        measured: `${usd(perThousand(okT))} (${okT} × 1,000 transitions); with 2 retries ${usd(perThousand(retriedT))}`,
        baseline: `SDLF-style: ${usd(perThousand(sdlfT))} (${sdlfT} × 1,000) — ours is ${ratio.toFixed(2)}× cheaper`,
        target: `≥ ${CHEAPER_TARGET}× cheaper`,
        met: ratio >= CHEAPER_TARGET,
        values: {
          usdPer1000Runs: perThousand(okT),
          usdPer1000RunsWith2Retries: perThousand(retriedT),
          cheaperBy: ratio,
        },
        baselineValues: { usdPer1000Runs: perThousand(sdlfT) },
      },
    ];
  },
};
