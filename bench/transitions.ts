import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

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
