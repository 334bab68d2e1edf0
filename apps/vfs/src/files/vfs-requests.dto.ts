import { IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, Matches, Min } from 'class-validator';
import { AGENT_ID_PATTERN, VFS_SYSCALLS, type VfsSyscallName } from '#contracts';

export class VfsExecuteDto {
  @IsString()
  @Matches(AGENT_ID_PATTERN)
  agentId!: string;

  @IsInt()
  @Min(0)
  version!: number;

  @IsIn(VFS_SYSCALLS as unknown as string[])
  syscall!: VfsSyscallName;

  @IsObject()
  args!: Record<string, unknown>;

  @IsISO8601({ strict: true })
  at!: string;
}

export class VfsStateDto {
  @IsString()
  @Matches(AGENT_ID_PATTERN)
  agentId!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  version?: number;
}
