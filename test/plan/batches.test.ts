import { expect } from 'chai';
import { batchSize, makeBatches } from '../../src/plan/batches.js';

const fleet = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);
const sizes = (n: number, serial: Parameters<typeof makeBatches>[1]) => makeBatches(fleet(n), serial).map((b) => b.length);

describe('strategy.serial: makeBatches', () => {
  it('puts every host in one batch without serial', () => {
    expect(sizes(7, undefined)).to.deep.equal([7]);
    expect(makeBatches([], undefined)).to.deep.equal([]);
    expect(makeBatches([], [1, '50%'])).to.deep.equal([]);
  });

  it('cuts by a count, the last batch taking what is left', () => {
    expect(sizes(7, 3)).to.deep.equal([3, 3, 1]);
    expect(sizes(6, 2)).to.deep.equal([2, 2, 2]);
    expect(sizes(1, 1)).to.deep.equal([1]);
  });

  it('takes a serial larger than the fleet as the whole fleet', () => {
    expect(sizes(4, 10)).to.deep.equal([4]);
    expect(sizes(4, [10, 1])).to.deep.equal([4]);
    expect(sizes(3, [1, 50])).to.deep.equal([1, 2]);
  });

  it('cuts by a percentage of all hosts, rounded down, at least 1', () => {
    expect(sizes(10, '25%')).to.deep.equal([2, 2, 2, 2, 2]);
    expect(sizes(7, '50%')).to.deep.equal([3, 3, 1]);
    expect(sizes(3, '10%')).to.deep.equal([1, 1, 1]);
    expect(sizes(5, '100%')).to.deep.equal([5]);
    expect(batchSize('0.5%', 10)).to.equal(1);
    expect(batchSize('33.3%', 1000)).to.equal(333);
  });

  it('is not fooled by floating point (2.3% of 1000 is 23, 14.3% of 1000 is 143)', () => {
    expect(batchSize('2.3%', 1000)).to.equal(23);
    expect(batchSize('14.3%', 1000)).to.equal(143);
    expect(batchSize('57%', 100)).to.equal(57);
  });

  it('repeats the last item of a list: [1, "10%", "50%"]', () => {
    const serial = [1, '10%', '50%'];
    expect(sizes(1, serial)).to.deep.equal([1]);
    expect(sizes(7, serial)).to.deep.equal([1, 1, 3, 2]); // 10% of 7 -> 1, 50% of 7 -> 3
    expect(sizes(20, serial)).to.deep.equal([1, 2, 10, 7]);
    expect(sizes(1000, serial)).to.deep.equal([1, 100, 500, 399]);
  });

  it('keeps the hosts in order, each exactly once', () => {
    const hosts = fleet(23);
    const batches = makeBatches(hosts, [2, '20%', 5]);
    expect(batches.flat()).to.deep.equal(hosts);
    expect(batches.map((b) => b.length)).to.deep.equal([2, 4, 5, 5, 5, 2]);
  });
});
