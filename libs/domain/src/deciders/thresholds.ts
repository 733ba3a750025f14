import { emptyRecord } from '../limits';
import { canonicalJson } from '../canonical';
import { SetThresholds } from '../commands';
import { BalanceFigures, CreditThresholdCrossed } from '../events';
import { OpenAccountState } from '../state';
import { DEFAULT_THRESHOLDS, isCrossed, normalizeThresholds, percentUsed, Threshold, thresholdId } from '../thresholds';
import { advance } from './cycles';
import { accepted, Decision, DUPLICATE, requireCreditType } from './decision';

function thresholdsOf(state: OpenAccountState, creditType: string): readonly Threshold[] {
  return (Object.hasOwn(state.thresholds, creditType) ? state.thresholds[creditType] : undefined) ?? DEFAULT_THRESHOLDS;
}

/** Thresholds of `creditType` crossed at `figures` and not yet alerted in the current cycle. */
export function alertsFor(
  state: OpenAccountState,
  creditType: string,
  figures: BalanceFigures,
  occurredAt: string,
  thresholds: readonly Threshold[] = thresholdsOf(state, creditType),
): CreditThresholdCrossed[] {
  const alerted = state.creditTypes[creditType]?.alerted ?? [];
  let crossed: CreditThresholdCrossed[] | undefined;
  for (const threshold of thresholds) {
    if (!isCrossed(threshold, figures)) continue;
    const id = thresholdId(threshold);
    if (alerted.includes(id)) continue;
    (crossed ??= []).push({
      type: 'CreditThresholdCrossed',
      occurredAt,
      data: { creditType, cycleId: state.cycleId, thresholdId: id, threshold, percentUsed: percentUsed(figures), balanceAfter: figures },
    });
  }
  return crossed ?? [];
}

export function setThresholds(command: SetThresholds, state: OpenAccountState): Decision {
  const { state: advanced, events: resets } = advance(state, command.at);
  const creditTypes = emptyRecord<Threshold[]>();
  for (const creditType of Object.keys(command.data.creditTypes).sort()) {
    requireCreditType(advanced, creditType);
    creditTypes[creditType] = normalizeThresholds(command.data.creditTypes[creditType]);
  }
  if (canonicalJson(creditTypes) === canonicalJson(advanced.thresholds)) return DUPLICATE;
  const alerts: CreditThresholdCrossed[] = [];
  for (const creditType of Object.keys(advanced.creditTypes).sort()) {
    const figures = advanced.creditTypes[creditType].figures;
    alerts.push(...alertsFor(advanced, creditType, figures, command.at, creditTypes[creditType] ?? DEFAULT_THRESHOLDS));
  }
  return accepted([...resets, { type: 'ThresholdsSet', occurredAt: command.at, data: { creditTypes, cycleId: advanced.cycleId } }, ...alerts]);
}
