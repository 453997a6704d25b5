/** An alert as the alert text renders it and an Alerter (SNS on AWS) sends it. */

export type AlertSeverity = 'critical' | 'warning';
export type AlertKind = 'run-failed' | 'quarantine-spike' | 'schema-drift';

/** A rendered alert (text from shared/domain/alert-text.ts). */
export interface Alert {
  /** < 100 characters, no line breaks. */
  readonly subject: string;
  readonly body: string;
  /** Message attributes, for subscription filter policies. */
  readonly attributes: {
    readonly severity: AlertSeverity;
    readonly kind: AlertKind;
    readonly dataset: string;
    readonly stage: string;
  };
}
