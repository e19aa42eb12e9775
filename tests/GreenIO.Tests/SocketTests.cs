using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Evergreen.IO.Tests;

public class SocketTests
{
    [Fact]
    public void Echo_fifty_green_clients_each_get_their_own_bytes_back()
    {
        Hub.Run(() =>
        {
            var listener = Loopback.Listen();
            var ep = listener.LocalEndPoint!;
            var server = Green.Spawn(() =>
            {
                while (true)
                {
                    Socket c;
                    try { c = GreenSocket.Accept(listener); }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.Interrupted) { return; }
                    Green.Spawn(() =>
                    {
                        var buf = new byte[4096];
                        int n;
                        while ((n = GreenSocket.Receive(c, buf)) > 0) GreenSocket.Send(c, buf, 0, n, SocketFlags.None);
                        GreenSocket.Close(c);
                    });
                }
            });
            var clients = Enumerable.Range(0, 50).Select(id => Green.Spawn(() =>
            {
                var s = Loopback.NewTcp();
                GreenSocket.Connect(s, ep);
                var back = new byte[64];
                for (int i = 0; i < 20; i++)
                {
                    var msg = Encoding.ASCII.GetBytes($"client {id:D3} message {i:D3} ".PadRight(64, '.'));
                    GreenSocket.Send(s, msg);
                    Loopback.ReadExactly(s, back);
                    Assert.Equal(msg, back);
                }
                s.Shutdown(SocketShutdown.Send);
                Assert.Equal(0, GreenSocket.Receive(s, back));
                GreenSocket.Close(s);
                return 20;
            })).ToList();
            Assert.Equal(50 * 20, clients.Sum(c => c.Wait()));
            GreenSocket.Close(listener);
            server.Wait();
        });
    }

    [Fact]
    public void Ten_megabytes_each_way_at_once_arrive_intact()
    {
        const int total = 10 * 1024 * 1024;
        Hub.Run(() =>
        {
            var (a, b) = Loopback.Pair();
            byte[] Data(int seed) { var d = new byte[total]; new Random(seed).NextBytes(d); return d; }
            var fromA = Data(1);
            var fromB = Data(2);
            GreenThread Sender(Socket s, byte[] data) => Green.Spawn(() =>
            {
                // Uneven chunks so partial sends land at every kind of boundary.
                for (int off = 0, step = 1; off < data.Length; step = step * 7 % 100_003 + 1)
                {
                    int n = Math.Min(step, data.Length - off);
                    Assert.Equal(n, GreenSocket.Send(s, data, off, n, SocketFlags.None));
                    off += n;
                }
                s.Shutdown(SocketShutdown.Send);
            });
            GreenThread<byte[]> Receiver(Socket s) => Green.Spawn(() =>
            {
                using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buf = new byte[50_000];
                long got = 0;
                int n;
                while ((n = GreenSocket.Receive(s, buf, 0, buf.Length, SocketFlags.None)) > 0) { h.AppendData(buf, 0, n); got += n; }
                Assert.Equal(total, got);
                return h.GetHashAndReset();
            });
            var sa = Sender(a, fromA);
            var sb = Sender(b, fromB);
            var ra = Receiver(a);
            var rb = Receiver(b);
            sa.Wait();
            sb.Wait();
            Assert.Equal(SHA256.HashData(fromB), ra.Wait());
            Assert.Equal(SHA256.HashData(fromA), rb.Wait());
            GreenSocket.Close(a);
            GreenSocket.Close(b);
        });
    }

    [Fact]
    public void Udp_datagrams_round_trip()
    {
        Hub.Run(() =>
        {
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var echo = Green.Spawn(() =>
            {
                var buf = new byte[1500];
                for (int i = 0; i < 10; i++)
                {
                    EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                    int n = GreenSocket.ReceiveFrom(server, buf, ref from);
                    GreenSocket.SendTo(server, buf.AsSpan(0, n), from);
                }
            });
            var back = new byte[1500];
            for (int i = 0; i < 10; i++)
            {
                var msg = Encoding.ASCII.GetBytes($"datagram {i}");
                GreenSocket.SendTo(client, msg, server.LocalEndPoint!);
                EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                int n = GreenSocket.ReceiveFrom(client, back, SocketFlags.None, ref from);
                Assert.Equal(msg, back.AsSpan(0, n).ToArray());
                Assert.Equal(server.LocalEndPoint, from);
            }
            echo.Wait();
            GreenSocket.Close(server);
            GreenSocket.Close(client);
        });
    }

    [Fact]
    public void A_drained_stream_skips_the_EAGAIN_recv_yet_data_that_arrives_unwatched_is_read()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            var (c2, s2) = Loopback.Pair();
            var buf = new byte[4096];
            // Park once so the hub watches s (its first wait registers it with the poller).
            var first = Green.Spawn(() => GreenSocket.Receive(s, buf));
            Loopback.UntilWaiting(s);
            GreenSocket.Send(c, "hello"u8);
            Assert.Equal(5, first.Wait());
            // That read came up short: the receive queue is empty and the hub knows it.
            Assert.True(GreenSocket.KnownDrained(s));

            // Data arrives while nobody waits on s; another socket's waiter keeps the hub polling, so the
            // edge for s is taken from epoll with no reader parked. It must not be lost.
            var other = Green.Spawn(() => GreenSocket.Receive(s2, new byte[16]));
            Loopback.UntilWaiting(s2);
            GreenSocket.Send(c, "world!"u8);
            for (int i = 0; i < 100 && GreenSocket.KnownDrained(s); i++) Green.Sleep(0); // a few hub rounds
            Assert.False(GreenSocket.KnownDrained(s));
            int n = GreenTimeout.WithTimeout(TimeSpan.FromSeconds(30), () => GreenSocket.Receive(s, buf), -1);
            Assert.Equal(6, n);
            Assert.Equal("world!"u8.ToArray(), buf.AsSpan(0, 6).ToArray());

            // A full read (buffer filled) says nothing about what is left: the next Receive must try the socket.
            GreenSocket.Send(c, new byte[10]);
            var small = new byte[4];
            Loopback.UntilReadable(s);
            Assert.Equal(4, GreenSocket.Receive(s, small));
            Assert.False(GreenSocket.KnownDrained(s));
            Assert.Equal(4, GreenSocket.Receive(s, small));
            Assert.Equal(2, GreenSocket.Receive(s, small));
            Assert.True(GreenSocket.KnownDrained(s));

            GreenSocket.Send(c2, "x"u8);
            Assert.Equal(1, other.Wait());
            foreach (var x in new[] { c, s, c2, s2 }) GreenSocket.Close(x);
        });
    }

    [Fact]
    public void A_read_cut_short_by_TCP_urgent_data_does_not_count_as_drained()
    {
        // TCP stops a read at the urgent mark with normal data still queued behind it: that short read must not make
        // the next Receive park (no new edge would come: the reader would hang until the peer sent more).
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            c.NoDelay = true;
            var buf = new byte[4096];
            var first = Green.Spawn(() => GreenSocket.Receive(s, buf));
            Loopback.UntilWaiting(s);
            GreenSocket.Send(c, "abc"u8);
            GreenSocket.Send(c, "X"u8, SocketFlags.OutOfBand);
            GreenSocket.Send(c, "def"u8);
            var got = new List<byte>();
            int n = first.Wait();
            got.AddRange(buf.AsSpan(0, n).ToArray());
            while (got.Count < 6)
            {
                n = GreenTimeout.WithTimeout(TimeSpan.FromSeconds(30), () => GreenSocket.Receive(s, buf), -1);
                Assert.True(n > 0, n < 0 ? "the reader hung after a read cut short at the urgent mark" : "EOF");
                got.AddRange(buf.AsSpan(0, n).ToArray());
            }
            Assert.Equal("abcdef"u8.ToArray(), got.ToArray()); // the urgent byte is out of band (SO_OOBINLINE off)
            GreenSocket.Close(c);
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void Last_data_and_FIN_or_RST_arriving_together_do_not_leave_the_reader_parked()
    {
        // One recv can return the last bytes and consume the FIN behind them (short read; EOF is then a state, not
        // data), or return bytes with a reset pending: no edge follows, so neither short read may count as drained.
        Hub.Run(() =>
        {
            foreach (bool reset in new[] { false, true })
            {
                var (c, s) = Loopback.Pair();
                var buf = new byte[4096];
                var first = Green.Spawn(() => GreenSocket.Receive(s, buf));
                Loopback.UntilWaiting(s);
                GreenSocket.Send(c, "ping"u8);
                Assert.Equal(4, first.Wait()); // short read: drained
                var reader = Green.Spawn(() => GreenSocket.Receive(s, buf)); // parks (drained)
                Loopback.UntilWaiting(s);
                // Both arrive before the reader runs: the edge that wakes it is the last one.
                GreenSocket.Send(c, "last"u8);
                if (reset) { c.LingerState = new LingerOption(true, 0); GreenSocket.Close(c); }
                else c.Shutdown(SocketShutdown.Send);
                int n;
                try { n = reader.Wait(); }
                catch (SocketException e) when (reset && e.SocketErrorCode == SocketError.ConnectionReset) { n = -2; }
                if (n == 4) // it got the data; the end must still be seen, not waited for forever
                {
                    var end = GreenTimeout.WithTimeout(TimeSpan.FromSeconds(30), () =>
                    {
                        try { return GreenSocket.Receive(s, buf) == 0 ? "eof" : "data"; }
                        catch (SocketException e) { return e.SocketErrorCode.ToString(); }
                    }, "hung");
                    Assert.Equal(reset ? "ConnectionReset" : "eof", end == "eof" && reset ? "ConnectionReset" : end);
                }
                else Assert.True(reset && n == -2, $"reader returned {n}");
                GreenSocket.Close(s);
                if (!reset) GreenSocket.Close(c);
            }
        });
    }

    [Fact]
    public void Byte_at_a_time_writes_against_a_large_read_buffer_arrive_complete_and_in_order()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            c.NoDelay = true;
            const int total = 20_000;
            var writer = Green.Spawn(() =>
            {
                var one = new byte[1];
                for (int i = 0; i < total; i++)
                {
                    one[0] = (byte)(i * 7);
                    GreenSocket.Send(c, one);
                    if (i % 3 == 0) Green.Sleep(0); // let the reader catch up now and then: many short reads
                }
                c.Shutdown(SocketShutdown.Send);
            });
            var got = new List<byte>(total);
            var buf = new byte[8192];
            int n;
            while ((n = GreenSocket.Receive(s, buf)) > 0) got.AddRange(buf.AsSpan(0, n).ToArray());
            writer.Wait();
            Assert.Equal(total, got.Count);
            for (int i = 0; i < total; i++) Assert.Equal((byte)(i * 7), got[i]);
            GreenSocket.Close(c);
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void Scatter_receive_parks_greenly_and_fills_the_segments_in_order()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            var a = new byte[3];
            var b = new byte[5];
            var reader = Green.Spawn(() => GreenSocket.Receive(s, new List<ArraySegment<byte>> { new(a), new(b, 1, 3) }));
            Loopback.UntilWaiting(s);
            GreenSocket.Send(c, "abcdef"u8);
            Assert.Equal(6, reader.Wait());
            Assert.Equal("abc"u8.ToArray(), a);
            Assert.Equal("\0def\0"u8.ToArray(), b);
            // The BCL's own argument checks and the socket's receive timeout apply as for the span overload.
            Assert.Throws<ArgumentNullException>(() => GreenSocket.Receive(s, (IList<ArraySegment<byte>>)null!));
            s.ReceiveTimeout = 30;
            var e = Assert.Throws<SocketException>(() => GreenSocket.Receive(s, new List<ArraySegment<byte>> { new(a) }));
            Assert.Equal(SocketError.TimedOut, e.SocketErrorCode);
            GreenSocket.Close(c);
            Assert.Equal(0, GreenSocket.Receive(s, new List<ArraySegment<byte>> { new(a) }));
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void SendFile_streams_buffers_and_file_in_order_while_other_green_threads_run()
    {
        string path = Path.Combine(Path.GetTempPath(), $"evergreen-sendfile-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        var content = new byte[3 * 1024 * 1024 + 17];
        new Random(42).NextBytes(content);
        File.WriteAllBytes(path, content);
        try
        {
            Hub.Run(() =>
            {
                var (c, s) = Loopback.Pair();
                c.SendBufferSize = 65536; // small buffers: 3 MB cannot fit in them while nobody reads
                s.ReceiveBufferSize = 65536;
                var pre = "BEGIN"u8.ToArray();
                var post = "END"u8.ToArray();
                int ticks = 0;
                bool sending = true;
                var ticker = Green.Spawn(() => { while (Volatile.Read(ref sending)) { ticks++; Green.Sleep(0); } });
                // Nobody reads yet: 3 MB cannot fit the socket buffers, so the sender must park, not block the hub.
                var sender = Green.Spawn(() => GreenSocket.SendFile(c, path, pre, post, TransmitFileOptions.UseDefaultWorkerThread));
                Loopback.UntilWaiting(c, read: false);
                int ticksWhileBlocked = ticks;
                var got = new MemoryStream();
                var buf = new byte[65536];
                int expected = pre.Length + content.Length + post.Length;
                while (got.Length < expected)
                {
                    int n = GreenSocket.Receive(s, buf);
                    Assert.True(n > 0, "EOF before the whole file arrived");
                    got.Write(buf, 0, n);
                }
                sender.Wait();
                Volatile.Write(ref sending, false);
                ticker.Wait();
                Assert.True(ticksWhileBlocked > 0, "the ticker ran while the sender was parked");
                var all = got.ToArray();
                Assert.Equal(pre, all[..pre.Length]);
                Assert.Equal(SHA256.HashData(content), SHA256.HashData(all.AsSpan(pre.Length, content.Length)));
                Assert.Equal(post, all[^post.Length..]);
                // No file: just the buffers, as the BCL does. Flags green code cannot honour are refused up front.
                GreenSocket.SendFile(c, null, "x"u8.ToArray(), null, TransmitFileOptions.UseDefaultWorkerThread);
                Assert.Equal(1, GreenSocket.Receive(s, buf));
                Assert.Throws<NotSupportedException>(() => GreenSocket.SendFile(c, path, null, null, TransmitFileOptions.Disconnect));
                GreenSocket.Close(c);
                GreenSocket.Close(s);
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReceiveTimeout_fails_with_TimedOut_like_a_blocking_socket()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            c.ReceiveTimeout = 50;
            var e = Assert.Throws<SocketException>(() => GreenSocket.Receive(c, new byte[10]));
            Assert.Equal(SocketError.TimedOut, e.SocketErrorCode);
            Assert.Equal(0, GreenSocket.Receive(c, new byte[10], 0, 10, SocketFlags.None, out var code));
            Assert.Equal(SocketError.TimedOut, code);
            // The socket stays usable after a timeout, as on Linux without patching.
            GreenSocket.Send(s, "x"u8);
            Assert.Equal(1, GreenSocket.Receive(c, new byte[10]));
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 50 };
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            Assert.Equal(SocketError.TimedOut, Assert.Throws<SocketException>(() => GreenSocket.ReceiveFrom(udp, new byte[10], ref from)).SocketErrorCode);
            GreenSocket.Close(udp);
            GreenSocket.Close(c);
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void Timeout_scope_interrupts_a_receive_and_the_socket_stays_usable()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            Assert.Throws<GreenTimeoutException>(() =>
            {
                using var t = new GreenTimeout(TimeSpan.FromMilliseconds(20));
                GreenSocket.Receive(c, new byte[10]);
            });
            Assert.False(GreenSocket.HasWaiter(c, read: true));
            GreenSocket.Send(s, "ok"u8);
            Assert.Equal(2, GreenSocket.Receive(c, new byte[10]));
            GreenSocket.Close(c);
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void Connect_refused_throws_ConnectionRefused_and_is_not_connected()
    {
        Hub.Run(() =>
        {
            var probe = Loopback.NewTcp();
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var ep = probe.LocalEndPoint!;
            GreenSocket.Close(probe); // bound, never listening, now closed: nothing accepts on the port
            var c = Loopback.NewTcp();
            var e = Assert.Throws<SocketException>(() => GreenSocket.Connect(c, ep));
            Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
            Assert.Contains(ep.ToString()!, e.Message);
            Assert.False(c.Connected);
            GreenSocket.Close(c);
        });
    }

    [Fact]
    public void Connect_by_host_name_resolves_localhost()
    {
        Hub.Run(() =>
        {
            var l = Loopback.Listen();
            var c = Loopback.NewTcp();
            GreenSocket.Connect(c, "localhost", ((IPEndPoint)l.LocalEndPoint!).Port);
            var a = GreenSocket.Accept(l);
            Assert.True(c.Connected);
            Assert.Equal(c.LocalEndPoint, a.RemoteEndPoint);
            foreach (var s in new[] { c, a, l }) GreenSocket.Close(s);
        });
    }

    [Fact]
    public void Peer_reset_mid_stream_surfaces_as_ConnectionReset()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            var reader = Green.Spawn(() =>
            {
                var buf = new byte[5];
                Loopback.ReadExactly(c, buf);
                Assert.Equal("hello"u8.ToArray(), buf);
                return Assert.Throws<SocketException>(() => GreenSocket.Receive(c, new byte[10])).SocketErrorCode;
            });
            GreenSocket.Send(s, "hello"u8);
            Loopback.UntilWaiting(c); // the reader took "hello" and is parked on the next receive
            s.LingerState = new LingerOption(true, 0);
            GreenSocket.Close(s); // abortive close: RST
            Assert.Equal(SocketError.ConnectionReset, reader.Wait());
            // The kernel reports the reset once (to the reader); later sends see EPIPE, which .NET calls Shutdown.
            Assert.Equal(SocketError.Shutdown, Assert.Throws<SocketException>(() => GreenSocket.Send(c, new byte[1])).SocketErrorCode);
            GreenSocket.Close(c);
        });
    }

    [Fact]
    public void Half_close_lets_the_peer_read_to_EOF_and_still_answer()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            var server = Green.Spawn(() =>
            {
                var buf = new byte[1000];
                int total = 0, n;
                while ((n = GreenSocket.Receive(s, buf)) > 0) total += n;
                GreenSocket.Send(s, BitConverter.GetBytes(total));
                GreenSocket.Close(s);
            });
            var payload = new byte[300_000];
            GreenSocket.Send(c, payload);
            c.Shutdown(SocketShutdown.Send);
            var answer = new byte[4];
            Loopback.ReadExactly(c, answer);
            Assert.Equal(payload.Length, BitConverter.ToInt32(answer));
            Assert.Equal(0, GreenSocket.Receive(c, answer));
            server.Wait();
            GreenSocket.Close(c);
        });
    }

    [Fact]
    public void Close_while_another_green_thread_receives_gives_ConnectionAborted_as_dotnet_does()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            var reader = Green.Spawn(() => Assert.Throws<SocketException>(() => GreenSocket.Receive(c, new byte[10])).SocketErrorCode);
            var coded = Green.Spawn(() =>
            {
                // The same wait through the non-throwing overload, on the write side's peer.
                GreenSocket.Receive(s, new byte[10], 0, 10, SocketFlags.None, out var code);
                return code;
            });
            Loopback.UntilWaiting(c);
            Loopback.UntilWaiting(s);
            GreenSocket.Close(c);
            GreenSocket.Close(s);
            Assert.Equal(SocketError.ConnectionAborted, reader.Wait());
            Assert.Equal(SocketError.ConnectionAborted, coded.Wait());
            Assert.Throws<ObjectDisposedException>(() => GreenSocket.Receive(c, new byte[10]));
        });
    }

    [Fact]
    public void Close_of_a_listener_wakes_its_accept_with_Interrupted_as_dotnet_does()
    {
        Hub.Run(() =>
        {
            var l = Loopback.Listen();
            var acceptor = Green.Spawn(() => Assert.Throws<SocketException>(() => GreenSocket.Accept(l)).SocketErrorCode);
            Loopback.UntilWaiting(l);
            GreenSocket.Close(l);
            Assert.Equal(SocketError.Interrupted, acceptor.Wait());
        });
    }

    [Fact]
    public void Second_simultaneous_reader_gets_an_exception_naming_the_socket()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            var first = Green.Spawn(() => GreenSocket.Receive(c, new byte[10]));
            Loopback.UntilWaiting(c);
            var e = Assert.Throws<InvalidOperationException>(() => GreenSocket.Receive(c, new byte[10]));
            Assert.Contains("Second simultaneous read", e.Message);
            Assert.Contains(c.LocalEndPoint!.ToString()!, e.Message);
            Assert.Contains(first.Name, e.Message);
            GreenSocket.Send(s, "a"u8);
            Assert.Equal(1, first.Wait());
            GreenSocket.Close(c);
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void Several_acceptors_share_a_listener_without_being_allowed_each_getting_a_connection()
    {
        Hub.Run(() =>
        {
            var l = Loopback.Listen();
            var acceptors = Enumerable.Range(0, 3).Select(_ => Green.Spawn(() => GreenSocket.Accept(l))).ToList();
            Loopback.UntilWaiting(l);
            Green.Sleep(0); // the other two park as extra waiters (a second Accept used to throw "Second simultaneous read")
            var clients = Enumerable.Range(0, 3).Select(_ =>
            {
                var c = Loopback.NewTcp();
                GreenSocket.Connect(c, l.LocalEndPoint!);
                return c;
            }).ToList();
            var accepted = acceptors.Select(a => a.Wait()).ToList();
            Assert.Equal(3, accepted.Select(a => a.RemoteEndPoint!.ToString()).Distinct().Count());
            accepted.Concat(clients).Append(l).ToList().ForEach(GreenSocket.Close);
        });
    }

    [Fact]
    public void Several_receivers_share_a_datagram_socket_without_being_allowed()
    {
        Hub.Run(() =>
        {
            var u = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            u.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var receivers = Enumerable.Range(0, 3).Select(_ => Green.Spawn(() =>
            {
                var b = new byte[1];
                EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                GreenSocket.ReceiveFrom(u, b, ref from);
                return b[0];
            })).ToList();
            Loopback.UntilWaiting(u);
            Green.Sleep(0);
            var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            for (byte i = 1; i <= 3; i++) GreenSocket.SendTo(sender, new[] { i }, u.LocalEndPoint!);
            Assert.Equal(new byte[] { 1, 2, 3 }, receivers.Select(r => r.Wait()).Order().ToArray());
            GreenSocket.Close(sender);
            GreenSocket.Close(u);
        });
    }

    [Fact]
    public void Concurrent_readers_share_a_socket_when_explicitly_allowed()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            GreenSocket.AllowConcurrentWaiters(c, true);
            var readers = Enumerable.Range(0, 2).Select(_ => Green.Spawn(() =>
            {
                var b = new byte[1];
                Assert.Equal(1, GreenSocket.Receive(c, b));
                return b[0];
            })).ToList();
            Loopback.UntilWaiting(c);
            GreenSocket.Send(s, new byte[] { 1 });
            int first = readers.FindIndex(r => r.IsDead);
            for (int i = 0; first < 0; i++)
            {
                Assert.True(i < 10_000, "no reader took the first byte");
                Green.Sleep(0);
                first = readers.FindIndex(r => r.IsDead);
            }
            GreenSocket.Send(s, new byte[] { 2 });
            Assert.Equal(new byte[] { 1, 2 }, new[] { readers[first].Wait(), readers[1 - first].Wait() });
            GreenSocket.Close(c);
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void A_green_thread_blocked_in_Receive_does_not_freeze_the_hub()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            var blocked = Green.Spawn(() => GreenSocket.Receive(c, new byte[10]));
            Loopback.UntilWaiting(c);
            // Another green thread does a whole conversation of its own meanwhile.
            var worker = Green.Spawn(() =>
            {
                var (x, y) = Loopback.Pair();
                GreenSocket.Send(x, "ping"u8);
                var b = new byte[4];
                Loopback.ReadExactly(y, b);
                GreenSocket.Close(x);
                GreenSocket.Close(y);
                return Encoding.ASCII.GetString(b);
            });
            Assert.Equal("ping", worker.Wait());
            Assert.False(blocked.IsDead);
            Assert.True(GreenSocket.HasWaiter(c, read: true));
            GreenSocket.Send(s, "done"u8);
            Assert.Equal(4, blocked.Wait());
            GreenSocket.Close(c);
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void Off_green_threads_get_plain_blocking_sockets_back()
    {
        var (c, s) = Hub.Run(() =>
        {
            var pair = Loopback.Pair();
            GreenSocket.Send(pair.Server, "abc"u8);
            return pair;
        });
        Assert.False(Hub.IsGreenThread);
        Assert.True(GreenSocket.GetBlocking(c));
        var b = new byte[3];
        int got = 0;
        while (got < 3) got += GreenSocket.Receive(c, b, got, 3 - got, SocketFlags.None);
        Assert.Equal("abc"u8.ToArray(), b);
        Assert.True(c.Blocking); // a plain blocking socket again for the BCL's own callers
        c.Close();
        s.Close();
    }

    [Fact]
    public void A_socket_the_user_made_non_blocking_still_reports_WouldBlock()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            GreenSocket.SetBlocking(c, false);
            Assert.False(GreenSocket.GetBlocking(c));
            Assert.Equal(SocketError.WouldBlock, Assert.Throws<SocketException>(() => GreenSocket.Receive(c, new byte[1])).SocketErrorCode);
            GreenSocket.SetBlocking(c, true);
            GreenSocket.Send(s, "z"u8);
            Assert.Equal(1, GreenSocket.Receive(c, new byte[1]));
            GreenSocket.Close(c);
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void Poll_waits_greenly_for_readability()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            Assert.False(GreenSocket.Poll(c, 1000, SelectMode.SelectRead));
            var poller = Green.Spawn(() => GreenSocket.Poll(c, -1, SelectMode.SelectRead));
            Loopback.UntilWatched(c);
            GreenSocket.Send(s, "!"u8);
            Assert.True(poller.Wait());
            Assert.True(GreenSocket.Poll(c, TimeSpan.Zero, SelectMode.SelectWrite));
            GreenSocket.Close(c);
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void Poll_waits_beside_a_green_thread_blocked_in_Receive()
    {
        Hub.Run(() =>
        {
            var (c, s) = Loopback.Pair();
            var reader = Green.Spawn(() => GreenSocket.Receive(c, new byte[10]));
            Loopback.UntilWaiting(c);
            var poller = Green.Spawn(() => GreenSocket.Poll(c, 5_000_000, SelectMode.SelectRead));
            Loopback.UntilWatched(c);
            GreenSocket.Send(s, "!"u8);
            Assert.True(poller.Wait()); // the hub wakes watchers first: the poll sees the byte before the receive takes it
            Assert.Equal(1, reader.Wait());
            GreenSocket.Close(c);
            GreenSocket.Close(s);
        });
    }

    [Fact]
    public void Select_of_several_sockets_waits_greenly_and_keeps_only_the_ready_ones()
    {
        Hub.Run(() =>
        {
            var (a, a2) = Loopback.Pair();
            var (b, b2) = Loopback.Pair();
            var (c, c2) = Loopback.Pair();
            Assert.Throws<ArgumentNullException>(() => GreenSocket.Select(null, new List<Socket>(), null, -1));
            Assert.Throws<ArgumentException>(() => GreenSocket.Select(new List<object> { a, "x" }, null, null, -1));
            var timedOut = new List<Socket> { a, b };
            var errors = new List<Socket> { c };
            GreenSocket.Select(timedOut, null, errors, 20_000);
            Assert.Empty(timedOut);
            Assert.Empty(errors);
            var read = new List<Socket> { a, b, c };
            var selector = Green.Spawn(() => GreenSocket.Select(read, null, null, -1));
            Loopback.UntilWatched(a);
            Assert.True(GreenSocket.HasWatcher(c));
            Assert.False(selector.IsDead); // the select holds no thread: this green thread runs meanwhile
            GreenSocket.Send(b2, "y"u8);
            selector.Wait();
            Assert.Equal(new[] { b }, read);
            Assert.False(GreenSocket.HasWatcher(a)); // the wait forgot the sockets that did not wake it
            var both = new List<Socket> { a, c };
            var write = new List<Socket> { b, c };
            GreenSocket.Select(both, write, null, 0);
            Assert.Empty(both);
            Assert.Equal(new[] { b, c }, write);
            foreach (var x in new[] { a, a2, b, b2, c, c2 }) GreenSocket.Close(x);
        });
    }

    [Fact]
    public void A_socket_closed_under_Poll_or_Select_is_reported_ready_as_by_dotnet()
    {
        Hub.Run(() =>
        {
            var (a, a2) = Loopback.Pair();
            var (b, b2) = Loopback.Pair();
            var read = new List<Socket> { a, b };
            var error = new List<Socket> { a };
            var selector = Green.Spawn(() => GreenSocket.Select(read, null, error, 5_000_000));
            Loopback.UntilWatched(a);
            GreenSocket.Close(a);
            selector.Wait();
            Assert.Equal(new[] { a }, read);
            Assert.Equal(new[] { a }, error); // TCP: .NET's close resets the connection, an error for select
            Assert.Throws<ObjectDisposedException>(() => GreenSocket.Select(new List<Socket> { a, b }, null, null, 1000));
            var poller = Green.Spawn(() => GreenSocket.Poll(b, 5_000_000, SelectMode.SelectRead));
            Loopback.UntilWatched(b);
            GreenSocket.Close(b);
            Assert.True(poller.Wait());
            foreach (var x in new[] { a2, b2 }) GreenSocket.Close(x);
        });
    }
}
