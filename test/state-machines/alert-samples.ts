import { failureAlert, spikeAlert } from '../../shared/domain/alert-text';
import type { ExecutionContext, PipelineState, StageResult } from '../../shared/domain/pipeline';
import { judgeQuarantine } from '../../shared/domain/quarantine';
import type { Alert } from '../../shared/ports';
import { shippedRegistry } from '../helpers/registry';
import { ordersInput } from './harness';

/** The two sample alerts shown in docs/alerts.md, rendered by the real alert code (a test keeps them equal). */

const NAME = 'orders-2024-01-15-3f9c2a7d1b0e4c55';
export const SAMPLE_EXECUTION: ExecutionContext = {
  id: `arn:aws:states:eu-west-1:123456789012:execution:medallion-prod-pipeline:${NAME}`,
  name: NAME,
  stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-prod-pipeline',
};

const lake = 's3://medallion-prod-lake-123456789012-eu-west-1/';
const partition = 'year=2024/month=01/day=15';

function base(): PipelineState {
  const job = (stage: string, name: string) => ({
    jobName: name,
    timeoutMinutes: 30,
    arguments: {},
    manifestLocation: `${lake}_manifests/orders/${stage}/${NAME}.json`,
  });
  return {
    ...ordersInput({
      objects: {
        count: 3,
        bytes: 104211,
        firstLandedAt: '2024-01-15T10:21:07.412Z',
        lastLandedAt: '2024-01-15T10:21:08.100Z',
        inline: [],
        notListed: 0,
      },
    }),
    run: {
      runId: NAME,
      fromStage: 'bronze',
      settleSeconds: 0,
      partitionKey: `orders/${partition}`,
      leaseExpiresAt: '2024-01-15T13:21:09.000Z',
      jobs: {
        bronze: job('bronze', 'medallion-bronze'),
        silver: job('silver', 'medallion-silver'),
        gold: job('gold', 'medallion-gold'),
      },
    },
    jobRuns: {},
    results: {},
  };
}

const bronze: StageResult = {
  stage: 'bronze',
  jobName: 'medallion-bronze',
  jobRunId: 'jr_0b1c4e5d8f',
  durationSeconds: 74,
  recordsIn: 18240,
  recordsOut: 18240,
  recordsQuarantined: 0,
  quarantineRatio: 0,
  quarantineLocation: null,
  partitions: { created: 1, updated: 0, sample: [{ table: 'orders_bronze', values: ['2024', '01', '15'] }] },
  quarantine: {
    verdict: 'not-judged',
    action: 'continue',
    recordsIn: 18240,
    recordsQuarantined: 0,
    ratio: 0,
    maxRatio: 0.05,
    minRecords: 100,
    baseline: null,
    reasons: [],
    summary: '0 of 18240 records quarantined (0%); only silver is judged',
  },
};

export function sampleFailureAlert(): Alert {
  const cause = JSON.stringify({
    Id: 'jr_7a2e91c04b',
    JobName: 'medallion-silver',
    JobRunState: 'FAILED',
    ErrorMessage:
      'AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column or function parameter with name `amount` cannot be resolved. Did you mean one of the following? [`amount_eur`, `items`].',
  });
  return failureAlert(
    {
      ...base(),
      jobRuns: { bronze: { Id: 'jr_0b1c4e5d8f', JobName: 'medallion-bronze', JobRunState: 'SUCCEEDED' } },
      results: { bronze },
      error: { Error: 'States.TaskFailed', Cause: cause },
      release: { Payload: { lease: 'released', followUp: null } },
    },
    SAMPLE_EXECUTION,
  );
}

export function sampleSpikeAlert(): Alert {
  const policy = shippedRegistry().get('orders').quarantine;
  const quarantined = 2736;
  const silver: StageResult = {
    stage: 'silver',
    jobName: 'medallion-silver',
    jobRunId: 'jr_7a2e91c04b',
    durationSeconds: 131,
    recordsIn: 18240,
    recordsOut: 18240 - quarantined,
    recordsQuarantined: quarantined,
    quarantineRatio: quarantined / 18240,
    quarantineLocation: `${lake}quarantine/orders/${partition}/`,
    partitions: { created: 2, updated: 0, sample: [] },
    quarantine: judgeQuarantine({
      policy,
      recordsIn: 18240,
      recordsQuarantined: quarantined,
      recent: [0.011, 0.009, 0.014, 0.01, 0.012, 0.008, 0.013, 0.011, 0.01, 0.012, 0.009, 0.011, 0.012, 0.01],
    }),
  };
  return spikeAlert({ ...base(), results: { bronze, silver } }, SAMPLE_EXECUTION);
}

/** The docs/alerts.md block of an alert: subject, attributes, body. */
export const readmeBlock = (alert: Alert): string =>
  [
    `Subject: ${alert.subject}`,
    `Attributes: ${Object.entries(alert.attributes)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    '',
    alert.body,
  ].join('\n');
