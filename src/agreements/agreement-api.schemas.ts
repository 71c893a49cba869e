import { Type, type Static } from '@sinclair/typebox';
import { AGREEMENT_STATUSES, VERSION_STATUSES } from './agreements.tables.ts';
import { NORMALISATIONS, PURPOSES, SUBJECT_KINDS } from './agreement.terms.ts';
import { ARTICLE_6_BASES, ARTICLE_9_CONDITIONS } from './lawful-basis.ts';

/**
 * JSON Schemas of the agreements API, for the OpenAPI document. The routes validate bodies with parseTerms instead
 * of these schemas, because it reports every problem at once with the path of each field.
 */

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((value) => Type.Literal(value)));
const Uuid = Type.String({ format: 'uuid' });
const IsoDate = Type.String({ format: 'date', description: 'A calendar day in UK time, such as 2027-03-31.' });
const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const ApproverRole = literals(['data_protection_officer', 'senior_information_risk_owner'] as const);

export const ReferenceParams = Type.Object({
  reference: Type.String({ maxLength: 60, description: 'Agreement reference, such as THR-ISA-2026-014.' }),
});
export type ReferenceParams = Static<typeof ReferenceParams>;

const Approver = Type.Object({
  role: ApproverRole,
  user_id: Type.String({ format: 'uuid', description: 'A data protection officer or administrator of the party.' }),
  name: Type.String({ maxLength: 200 }),
});

const Party = Type.Object({
  organisation_id: Type.Optional(Type.String({ format: 'uuid', description: 'Leave out for the provider, which is always the caller’s organisation.' })),
  sharing_role: literals(['provider', 'recipient'] as const),
  controller_role: literals(['controller', 'joint_controller', 'processor'] as const),
  approvers: Type.Array(Approver, { minItems: 1, description: 'At most one approver per role.' }),
});

const DatasetTerms = Type.Object({
  dataset_id: Uuid,
  fields: Type.Array(Type.String(), { minItems: 1, description: 'Fields released, in release order; each must be in the dataset’s Table Schema.' }),
  row_filter: Type.Optional(
    Type.Union([Type.Null(), Type.Object({}, { additionalProperties: true })], {
      description: 'A condition tree: {"field", "op", "value"} with op one of eq, ne, lt, le, gt, ge, in, between, is_null, not_null, combined with {"and": [...]}, {"or": [...]} or {"not": {...}}.',
    }),
  ),
  pseudonymise: Type.Optional(Type.Array(Type.Object({ field: Type.String(), normalise: literals(NORMALISATIONS) }), { description: 'Released fields replaced by keyed pseudonyms.' })),
  subject: Type.Optional(Type.Union([Type.Null(), Type.Object({ field: Type.String(), kind: literals(SUBJECT_KINDS) })], { description: 'The field identifying the data subject, for the disclosure log.' })),
});

export const Terms = Type.Object(
  {
    title: Type.String({ maxLength: 300 }),
    summary: Type.String({ maxLength: 5000 }),
    parties: Type.Array(Party, { minItems: 2, description: 'Exactly one provider and at least one recipient.' }),
    purposes: Type.Array(literals(Object.keys(PURPOSES) as Array<keyof typeof PURPOSES>), { minItems: 1 }),
    purpose_description: Type.String({ maxLength: 5000 }),
    special_category: Type.Optional(Type.Boolean({ description: 'Whether the data include special category data (UK GDPR Article 9).' })),
    lawful_basis: Type.Object({
      article6: literals(Object.keys(ARTICLE_6_BASES) as Array<keyof typeof ARTICLE_6_BASES>),
      article9: Type.Optional(Type.Union([Type.Null(), literals(Object.keys(ARTICLE_9_CONDITIONS) as Array<keyof typeof ARTICLE_9_CONDITIONS>)])),
      schedule1: Type.Optional(Type.Union([Type.Null(), Type.Integer({ minimum: 1, maximum: 28, description: 'DPA 2018 Schedule 1 paragraph.' })])),
      statutory_powers: Type.Optional(Type.Array(Type.String({ maxLength: 300 }), { description: 'Needed for Article 6(1)(c) and (e).' })),
    }),
    datasets: Type.Array(DatasetTerms, { minItems: 1 }),
    linking_allowed: Type.Optional(Type.Boolean()),
    retention_months: Type.Integer({ minimum: 1, maximum: 1200 }),
    retention_note: Type.Optional(Type.String({ maxLength: 2000 })),
    security_requirements: Type.Array(Type.String({ maxLength: 500 }), { minItems: 1 }),
    start_date: IsoDate,
    end_date: IsoDate,
    review_date: IsoDate,
  },
  { description: 'The terms of one agreement version.' },
);

export const CreateBody = Type.Object({ reference: Type.String({ pattern: '^[A-Z0-9][A-Z0-9-]{2,59}$' }), terms: Terms });
export const TermsBody = Type.Object({ terms: Terms });
export const AmendBody = Type.Object({ terms: Type.Optional(Terms) }, { description: 'New terms; the version in force is copied when left out.' });
export const CommentBody = Type.Object({ comment: Type.Optional(Type.String({ maxLength: 2000 })) });
export const DecisionBody = Type.Object({
  role: Type.Optional(ApproverRole),
  comment: Type.Optional(Type.String({ maxLength: 2000, description: 'Needed when declining.' })),
});
export const ReasonBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) });
export const DiscardBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000, description: 'Why the draft is discarded; recorded in the history.' })) });

const Status = literals(AGREEMENT_STATUSES);
const Action = literals(['update', 'submit', 'discard', 'withdraw', 'approve', 'decline', 'amend', 'suspend', 'resume', 'terminate'] as const);

const VersionBody = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  status: literals(VERSION_STATUSES),
  in_force: Type.Boolean(),
  created_at: Timestamp,
  submitted_at: NullableTimestamp,
  approved_at: NullableTimestamp,
  terms: Type.Object({}, { additionalProperties: true, description: 'The terms, in the shape the API takes them.' }),
});

export const AgreementSummaryBody = Type.Object({
  reference: Type.String(),
  title: Type.String(),
  status: Status,
  provider: Type.Object({ id: Uuid, name: Type.String() }),
  your_role: literals(['provider', 'recipient'] as const),
  version_in_force: Type.Union([Type.Integer(), Type.Null()]),
  latest_version: Type.Object({ version: Type.Integer(), status: VersionBody.properties.status }),
  allowed_actions: Type.Array(Action, { description: 'Workflow actions the agreement accepts now; each also needs the right role.' }),
  links: Type.Object({ self: Type.String(), page: Type.String() }),
});

export const AgreementList = Type.Object({ agreements: Type.Array(AgreementSummaryBody) });

export const ApproverCandidates = Type.Object(
  {
    organisations: Type.Array(
      Type.Object({
        id: Uuid,
        name: Type.String(),
        approvers: Type.Array(
          Type.Object({
            user_id: Uuid,
            name: Type.String(),
            role: Type.Union([Type.Literal('data_protection_officer'), Type.Literal('administrator')], {
              description: 'The member\'s role in the organisation. Either may be named as the party\'s data protection officer or senior information risk owner approver.',
            }),
          }),
        ),
      }),
    ),
  },
  { description: 'Active organisations with the members each could name to approve an agreement. Names and ids only, never email addresses.' },
);

export const AgreementDetailBody = Type.Composite([
  AgreementSummaryBody,
  Type.Object({
    parties: Type.Array(Type.Object({ id: Uuid, name: Type.String(), sharing_role: Type.String() })),
    versions: Type.Array(VersionBody),
    approvals: Type.Array(
      Type.Object({
        party_organisation_id: Uuid,
        role: ApproverRole,
        user_id: Uuid,
        name: Type.String(),
        decision: Type.Union([Type.Literal('approved'), Type.Literal('declined'), Type.Null()]),
        comment: Type.Union([Type.String(), Type.Null()]),
      }),
      { description: 'Approvals the latest version needs, with the decisions made since it was submitted.' },
    ),
    transitions: Type.Array(
      Type.Object({
        from_status: Type.Union([Type.String(), Type.Null()]),
        to_status: Type.String(),
        version: Type.Union([Type.Integer(), Type.Null()]),
        actor_kind: Type.String(),
        reason: Type.String(),
        occurred_at: Timestamp,
      }),
    ),
  }),
]);
