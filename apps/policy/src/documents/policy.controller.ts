import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Subjects } from '#contracts';
import { POLICY_JSON_SCHEMA } from '#policy-engine';
import { ApiErrorFilter, JsonBodyPipe, protocolValidationPipe } from '#runtime';
import { PolicyStore } from './policy-store.service.js';
import {
  ApplyPolicyDto,
  DiffPoliciesDto,
  PolicyTextDto,
  PolicyVersionDto,
  RollbackPolicyDto,
} from './policy-requests.dto.js';

/** Policy administration over NATS (`agentos.v1.policy.*`, operators only; see docs/subjects.md). */
@Controller()
@UseFilters(ApiErrorFilter)
export class PolicyController {
  constructor(private readonly store: PolicyStore) {}

  @MessagePattern(Subjects.policyValidate, { queue: 'policy' })
  validate(@Payload(JsonBodyPipe, protocolValidationPipe()) b: PolicyTextDto) {
    return this.store.validate(b.document, b.format);
  }

  @MessagePattern(Subjects.policyApply, { queue: 'policy' })
  apply(@Payload(JsonBodyPipe, protocolValidationPipe()) b: ApplyPolicyDto) {
    return this.store.apply(b.document, b.format, b.appliedBy, b.reason);
  }

  @MessagePattern(Subjects.policyList, { queue: 'policy' })
  list() {
    return this.store.list();
  }

  @MessagePattern(Subjects.policyShow, { queue: 'policy' })
  show(@Payload(JsonBodyPipe, protocolValidationPipe()) b: PolicyVersionDto) {
    return this.store.show(b.version);
  }

  @MessagePattern(Subjects.policyDiff, { queue: 'policy' })
  diff(@Payload(JsonBodyPipe, protocolValidationPipe()) b: DiffPoliciesDto) {
    return this.store.diff(b.from, b.to);
  }

  @MessagePattern(Subjects.policyRollback, { queue: 'policy' })
  rollback(@Payload(JsonBodyPipe, protocolValidationPipe()) b: RollbackPolicyDto) {
    return this.store.rollback(b.version, b.appliedBy, b.reason);
  }

  @MessagePattern(Subjects.policySchema, { queue: 'policy' })
  schema() {
    return POLICY_JSON_SCHEMA;
  }
}
