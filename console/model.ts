/**
 * What the run console shows, as one JSON document: read from a local lake by console/data.ts
 * (Node), embedded in the page by console/page.ts and drawn by console/app/ (the browser). Plain
 * data only: no Node and no DOM types, so both sides compile against it.
 */

export const CONSOLE_DATA_VERSION = 1;

/** The status of a state in one execution, as the Step Functions console colours it. */
export type StateStatus = 'succeeded' | 'failed' | 'caught' | 'running' | 'not-run';

export interface GraphNode {
  /** The state's name; `__start__` / `__end__` for the console's Start and End marks. */
  readonly id: string;
  readonly label: string;
  /** The ASL `Type` (Task, Choice, Pass, Wait, Fail, Succeed), or `Start` / `End`. */
  readonly type: string;
  readonly comment?: string;
  /** `glue:startJobRun.sync`, `lambda:invoke` (the Resource without its ARN prefix) for a Task. */
  readonly resource?: string;
  readonly timeoutSeconds?: number;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** `next`, `choice` (a Choice rule or its Default), `catch` (a Catch's error path), `end`. */
  readonly kind: 'next' | 'choice' | 'default' | 'catch' | 'end';
  readonly label?: string;
}

export interface StateMachineGraph {
  readonly name: string;
  readonly comment?: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export interface ConsoleStateVisit {
  readonly name: string;
  readonly type: string;
  readonly status: Exclude<StateStatus, 'not-run'>;
  readonly enteredAt: string;
  readonly durationMs?: number;
  readonly retries: number;
  readonly error?: string;
  /** The cause as Step Functions gives it (maybe a JSON text). */
  readonly cause?: string;
}

export interface ConsoleStage {
  readonly stage: string;
  /** The stage's Glue Task, as the execution saw it. */
  readonly durationMs?: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsQuarantined: number;
  /** The quarantine judgement: normal, spike, too-few-records, not-judged. */
  readonly verdict: string;
}

export interface ConsoleExecution {
  readonly name: string;
  readonly dataset: string;
  readonly partition: string;
  readonly trigger: string;
  readonly status: string;
  readonly startedAt: string;
  readonly stoppedAt?: string;
  readonly durationMs?: number;
  /** The execution's error (`States.TaskFailed`) and what failed in words. */
  readonly error?: string;
  readonly errorType?: string;
  readonly cause?: string;
  readonly causeMessage?: string;
  readonly glueRun?: { readonly id?: string; readonly jobName?: string; readonly state?: string };
  readonly states: readonly ConsoleStateVisit[];
  /** The stages this execution recorded (from its *Record <stage> results* outputs). */
  readonly stages: readonly ConsoleStage[];
}

/** One stage metrics data point (metrics.jsonl, the CloudWatch twin). */
export interface ConsoleMetric {
  readonly stage: string;
  /** ms since the epoch, when the stage's job completed. */
  readonly at: number;
  readonly durationSeconds: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsQuarantined: number;
  readonly quarantineRatio: number;
}

/** The quarantine ratio of one judged run against the baseline the rule saw for it. */
export interface ConsoleRatioPoint {
  readonly at: number;
  readonly ratio: number;
  /** mean + k·σ of the recent ratios before the run; null while fewer than the minimum exist. */
  readonly threshold: number | null;
  readonly mean: number | null;
  readonly maxRatio: number;
  /** Whether the rule judged this run (recordsIn ≥ minRecords). */
  readonly judged: boolean;
}

export interface ConsoleDataset {
  readonly name: string;
  /** False for a dataset that has runs in the lake but no definition in datasets/ any more. */
  readonly defined: boolean;
  readonly judgedStage: string;
  readonly metrics: readonly ConsoleMetric[];
  readonly ratio: readonly ConsoleRatioPoint[];
}

export interface ConsoleAlert {
  readonly subject: string;
  readonly body: string;
  readonly severity?: string;
  readonly kind?: string;
  readonly dataset?: string;
  readonly executionName?: string;
  readonly publishedAt: string;
}

export interface ConsoleData {
  readonly version: typeof CONSOLE_DATA_VERSION;
  readonly lake: string;
  readonly generatedAt: string;
  readonly stateMachine: StateMachineGraph;
  readonly executions: readonly ConsoleExecution[];
  readonly datasets: readonly ConsoleDataset[];
  readonly alerts: readonly ConsoleAlert[];
  /** Where the lake's published data dictionary is (`medallion catalog --publish`), if it is. */
  readonly dictionary?: string;
}
