export interface RedisClusterNode {
  host: string;
  port: number;
}

export interface RunningRedisCluster {
  nodes: RedisClusterNode[];
  stop(): Promise<void>;
}

export function startRedisCluster(masters?: number): Promise<RunningRedisCluster>;
