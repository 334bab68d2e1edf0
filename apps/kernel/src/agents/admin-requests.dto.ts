import { IsDefined, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { AGENT_ID_PATTERN, TOOL_NAME_PATTERN } from '#contracts';

export class CreateAgentDto {
  @IsString()
  @Matches(AGENT_ID_PATTERN, { message: 'agentId must match [A-Za-z0-9_-]{1,128}' })
  agentId!: string;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'role must match [A-Za-z0-9_.-]{1,64}' })
  role?: string;
}

export class AgentRefDto {
  @IsString()
  @Matches(AGENT_ID_PATTERN, { message: 'agentId must match [A-Za-z0-9_-]{1,128}' })
  agentId!: string;
}

export class SignalAgentDto extends AgentRefDto {
  /** A name (SIGSTOP, stop) or a number (1..12); checked by the service. */
  @IsDefined({ message: 'signal is required' })
  signal!: string | number;

  @IsOptional()
  @IsString()
  @MaxLength(1024)
  reason?: string;
}

export class DestroyAgentDto extends AgentRefDto {
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  reason?: string;
}

export class RegisterToolDto {
  @IsString()
  @Matches(TOOL_NAME_PATTERN, { message: 'name must match [A-Za-z0-9_-]{1,128}' })
  name!: string;

  @IsOptional()
  @IsString()
  @Length(0, 4096)
  description?: string;
}

export class ListAgentsDto {
  @IsOptional()
  @IsString()
  @MaxLength(128)
  after?: string;
}
