import { Injectable } from '@nestjs/common';
import { KeyedMutex } from './keyed-mutex.js';

/**
 * One lock per agent for the whole kernel process: syscalls and ring 0 operations on the same
 * agent run one after another, so only the lock holder ever folds into the agent's cached state.
 */
@Injectable()
export class AgentLocks extends KeyedMutex {}
