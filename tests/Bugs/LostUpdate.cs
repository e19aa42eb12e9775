namespace Evergreen.Bugs;

/// <summary>
/// Lost update: <see cref="Account.Deposit"/> reads the balance, records the deposit in the history under the
/// history's lock, then writes the balance back. Two deposits whose read/write pairs overlap leave one of them out.
/// The history lock is the step between the read and the write (a real deposit logs, validates or calls out there).
/// </summary>
public static class LostUpdate
{
    /// <summary>An account whose deposit is a read-modify-write split by the history.</summary>
    public sealed class Account
    {
        private readonly object _historyGate = new();
        private readonly List<int> _history = [];
        private int _balance;

        /// <summary>The balance now.</summary>
        public int Balance => _balance;

        /// <summary>The bug: the balance is read before, and written after, the recorded step.</summary>
        public void Deposit(int amount)
        {
            int balance = _balance;
            lock (_historyGate)
            {
                _history.Add(amount);
            }
            _balance = balance + amount;
        }

        /// <summary>The fix: read, record and write under the one lock.</summary>
        public void DepositFixed(int amount)
        {
            lock (_historyGate)
            {
                _history.Add(amount);
                _balance += amount;
            }
        }
    }

    /// <summary>Two threads deposit 1 each; throws when the balance is not 2.</summary>
    public static void Body() => Run(fixedCode: false);

    /// <summary>The same with <see cref="Account.DepositFixed"/>.</summary>
    public static void Fixed() => Run(fixedCode: true);

    private static void Run(bool fixedCode)
    {
        var account = new Account();
        Action deposit = fixedCode ? () => account.DepositFixed(1) : () => account.Deposit(1);
        var first = new Thread(() => deposit()) { Name = "depositor-1" };
        var second = new Thread(() => deposit()) { Name = "depositor-2" };
        first.Start();
        second.Start();
        first.Join();
        second.Join();
        if (account.Balance != 2)
            throw new InvalidOperationException($"lost update: balance {account.Balance} != 2 after two deposits of 1");
    }
}
