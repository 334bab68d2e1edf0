import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Subjects } from '#contracts';
import { ApiErrorFilter, JsonBodyPipe, protocolValidationPipe } from '#runtime';
import { KernelStatsService } from '../metrics/kernel-stats.service.js';
import { AgentAdminService } from './agent-admin.service.js';
import {
  AgentRefDto,
  CreateAgentDto,
  DestroyAgentDto,
  ListAgentsDto,
  RegisterToolDto,
  SignalAgentDto,
} from './admin-requests.dto.js';

/** Ring 0 subjects (`agentos.v1.admin.*`): operators only, enforced by NATS permissions. */
@Controller()
@UseFilters(ApiErrorFilter)
export class AgentAdminController {
  constructor(
    private readonly admin: AgentAdminService,
    private readonly stats: KernelStatsService,
  ) {}

  @MessagePattern(Subjects.adminAgentsCreate, { queue: 'kernel' })
  create(@Payload(JsonBodyPipe, protocolValidationPipe()) b: CreateAgentDto) {
    return this.admin.create(b.agentId, b.role);
  }

  @MessagePattern(Subjects.adminAgentsGet, { queue: 'kernel' })
  get(@Payload(JsonBodyPipe, protocolValidationPipe()) b: AgentRefDto) {
    return this.admin.get(b.agentId);
  }

  @MessagePattern(Subjects.adminAgentsDigest, { queue: 'kernel' })
  digest(@Payload(JsonBodyPipe, protocolValidationPipe()) b: AgentRefDto) {
    return this.admin.digest(b.agentId);
  }

  @MessagePattern(Subjects.adminAgentsSignal, { queue: 'kernel' })
  signal(@Payload(JsonBodyPipe, protocolValidationPipe()) b: SignalAgentDto) {
    return this.admin.signal(b.agentId, b.signal, b.reason);
  }

  @MessagePattern(Subjects.adminAgentsDestroy, { queue: 'kernel' })
  destroy(@Payload(JsonBodyPipe, protocolValidationPipe()) b: DestroyAgentDto) {
    return this.admin.destroy(b.agentId, b.reason);
  }

  @MessagePattern(Subjects.adminAgentsCredentials, { queue: 'kernel' })
  credentials(@Payload(JsonBodyPipe, protocolValidationPipe()) b: AgentRefDto) {
    return this.admin.issueCredentials(b.agentId);
  }

  @MessagePattern(Subjects.adminAgentsList, { queue: 'kernel' })
  list(@Payload(JsonBodyPipe, protocolValidationPipe()) b: ListAgentsDto) {
    return this.admin.list(b.after);
  }

  @MessagePattern(Subjects.adminToolsRegister, { queue: 'kernel' })
  registerTool(@Payload(JsonBodyPipe, protocolValidationPipe()) b: RegisterToolDto) {
    return this.admin.registerTool(b.name, b.description);
  }

  @MessagePattern(Subjects.adminToolsList, { queue: 'kernel' })
  listTools() {
    return this.admin.listTools();
  }

  @MessagePattern(Subjects.adminKernelMetrics, { queue: 'kernel' })
  metrics() {
    return this.stats.snapshot();
  }
}
