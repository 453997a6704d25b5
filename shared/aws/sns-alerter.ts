import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Alert, Alerter } from '../ports';

/**
 * Alerts on SNS. Attributes go as String message attributes (default MessageStructure, so
 * subscription filter policies can route on severity, kind, dataset and stage).
 */
export class SnsAlerter implements Alerter {
  constructor(
    private readonly topicArn: string,
    private readonly client: SNSClient = new SNSClient({ maxAttempts: 5 }),
  ) {}

  async publish(alert: Alert): Promise<{ messageId: string }> {
    const out = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: alert.subject,
        Message: alert.body,
        MessageAttributes: Object.fromEntries(
          Object.entries(alert.attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    );
    return { messageId: out.MessageId ?? 'unknown' };
  }
}
