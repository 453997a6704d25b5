import { settleWaitSeconds } from '../../shared/domain/settle';
import { ordersInput } from '../state-machines/harness';

const NOW = new Date('2024-01-15T10:30:00.000Z');
const landed = (firstLandedAt: string | null) =>
  ordersInput({ objects: { ...ordersInput().objects, firstLandedAt } });

describe('settle window (trigger.settleSeconds)', () => {
  it('waits until the window after the first arrival, whole seconds, never more than the window', () => {
    expect(settleWaitSeconds(300, landed('2024-01-15T10:30:00.000Z'), NOW)).toBe(300);
    expect(settleWaitSeconds(300, landed('2024-01-15T10:28:00.000Z'), NOW)).toBe(180);
    expect(settleWaitSeconds(300, landed('2024-01-15T10:28:00.400Z'), NOW)).toBe(181);
    expect(settleWaitSeconds(300, landed('2024-01-15T10:20:00.000Z'), NOW)).toBe(0);
    // A first arrival in the future (clock skew) still waits at most the window
    expect(settleWaitSeconds(300, landed('2024-01-15T11:00:00.000Z'), NOW)).toBe(300);
    // No arrival time: the whole window
    expect(settleWaitSeconds(300, landed(null), NOW)).toBe(300);
  });

  it('never waits without a window, for a replay, or for a run that does not start at bronze', () => {
    const fresh = landed('2024-01-15T10:30:00.000Z');
    expect(settleWaitSeconds(0, fresh, NOW)).toBe(0);
    expect(settleWaitSeconds(300, { ...fresh, trigger: 'replay' }, NOW)).toBe(0);
    expect(settleWaitSeconds(300, { ...fresh, fromStage: 'silver' }, NOW)).toBe(0);
  });
});
