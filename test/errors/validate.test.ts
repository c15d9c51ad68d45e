import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { OptionError, integer, listOf, nonNegativeInt, numberIn, oneOf, port, positiveInt, positiveNumber } from '../../src/errors/validate.js';

describe('option validation', () => {
  it('accepts valid values and returns them', () => {
    expect(positiveInt('f', 'every', 3)).toBe(3);
    expect(nonNegativeInt('f', 'n', 0)).toBe(0);
    expect(integer('f', 'seed', -4)).toBe(-4);
    expect(positiveNumber('f', 'tol', 1e-9)).toBe(1e-9);
    expect(numberIn('f', 'q', 1, 0, 1)).toBe(1);
    expect(port('f', 'port', 0)).toBe(0);
    expect(oneOf('f', 'kind', 'b', ['a', 'b'] as const)).toBe('b');
  });

  it('names the function, the option and the value in one style', () => {
    const cases: [() => unknown, string][] = [
      [() => positiveInt('createPolca', 'every', 0), "createPolca: option 'every' must be a positive integer, got 0"],
      [() => positiveInt('createPolca', 'every', 2.5), "createPolca: option 'every' must be a positive integer, got 2.5"],
      [() => positiveInt('createPolca', 'every', '3'), `createPolca: option 'every' must be a positive integer, got "3"`],
      [() => nonNegativeInt('f', 'n', -1), "f: option 'n' must be a non-negative integer, got -1"],
      [() => integer('f', 'seed', Number.NaN), "f: option 'seed' must be an integer, got NaN"],
      [() => positiveNumber('f', 'tol', Infinity), "f: option 'tol' must be a positive number, got Infinity"],
      [() => numberIn('f', 'q', 2, 0, 1), "f: option 'q' must be a number in [0, 1], got 2"],
      [() => port('f', 'port', 70000), "f: option 'port' must be a port number from 0 to 65535, got 70000"],
      [() => oneOf('f', 'kind', 'c', ['a', 'b', 'x']), "f: option 'kind' must be 'a', 'b' or 'x', got \"c\""],
    ];
    for (const [call, message] of cases) {
      expect(call).toThrow(OptionError);
      expect(call).toThrow(message);
    }
    expect(listOf(['only'])).toBe("'only'");
    // Tensors are described by dtype and shape (recognised without importing tfjs), other objects by class.
    const t = tf.zeros([2, 3], 'int32');
    expect(() => positiveInt('f', 'n', t)).toThrow("f: option 'n' must be a positive integer, got a int32 tensor of shape [2,3]");
    t.dispose();
    expect(() => positiveInt('f', 'n', { dtype: 'float32', shape: [1] })).toThrow('got an object (Object)');
    expect(() => positiveInt('f', 'n', new Float32Array(4))).toThrow('got a Float32Array of length 4');
  });
});
