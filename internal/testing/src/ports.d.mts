import type net from 'node:net';

export function listenOnFreePort(): Promise<net.Server>;
export function freePorts(count: number): Promise<number[]>;
export function freePort(): Promise<number>;
