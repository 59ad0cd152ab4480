import { Type, type Static } from '@sinclair/typebox';

const sums = {
  tasks: Type.Integer({ description: 'Tasks that succeeded in the period (failed tasks bill nothing).' }),
  billed_seconds: Type.Number({ description: 'Seconds billed: output seconds, plus input seconds on engines that bill them.' }),
  list_price: Type.Number({ description: 'What the seconds cost by the price table, including tasks of free engines (the preview renderer).' }),
  cost: Type.Number({ description: 'What was billed: the list price of tasks that ran on engines that cost something.' }),
};

/** `GET /v3/usage`: the calling key's usage of a period, summed per model or per UTC day. */
export const usageReportSchema = Type.Object({
  from: Type.String({ description: 'Start of the period (inclusive), ISO 8601 UTC.' }),
  to: Type.String({ description: 'End of the period (exclusive), ISO 8601 UTC.' }),
  group_by: Type.Union([Type.Literal('model'), Type.Literal('day')]),
  currency: Type.String({ description: 'Currency of list_price and cost (the price_currency setting).' }),
  rows: Type.Array(Type.Object({ group: Type.String({ description: 'The model id, or the UTC day (2026-11-25).' }), ...sums })),
  total: Type.Object(sums),
});

export type UsageReport = Static<typeof usageReportSchema>;

/** A task's own usage, as the Task Result shows it in `extra.usage`. */
export const taskUsageSchema = Type.Object({
  model: Type.String(),
  engine: Type.String({ description: 'The engine instance that ran the task.' }),
  billed_seconds: Type.Number(),
  output_seconds: Type.Number(),
  input_seconds: Type.Number({ description: 'Seconds of input video billed (edits and continuations on clouds that bill them), else 0.' }),
  resolution: Type.Union([Type.Literal('720P'), Type.Literal('1080P')]),
  audio: Type.Boolean(),
  list_price: Type.Number(),
  cost: Type.Number({ description: 'What the task bills: 0 on the preview renderer, which records its would-be cost as list_price.' }),
  currency: Type.String(),
});
