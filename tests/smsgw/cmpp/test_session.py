"""The client session against the simulator over real loopback TCP."""

import asyncio
import itertools
import time

import pytest

from smsgw.cmpp.msgid import unpack_msg_id
from smsgw.cmpp.pdu import Cancel, CancelResp, ProtocolError, Query, QueryResp, Submit, Version
from smsgw.cmpp.session import (
    LoginRefusedError,
    MoMessage,
    Report,
    Session,
    SessionClosedError,
    SessionConfig,
    SubmitTimeoutError,
)
from smsgw.cmpp.simulator import Account, Simulator, SimulatorConfig

from .util import run, until

BOTH = pytest.mark.parametrize("version", [Version.V20, Version.V30], ids=["2.0", "3.0"])
SP, SECRET = "900001", "888888"


def sim_config(**kw) -> SimulatorConfig:
    kw.setdefault("accounts", (Account(SP, SECRET), Account("900002", "other:secret")))
    kw.setdefault("dlr_delay", 0.05)
    return SimulatorConfig(**kw)


def client(sim: Simulator, **kw) -> SessionConfig:
    kw.setdefault("sp_id", SP)
    kw.setdefault("secret", SECRET)
    kw.setdefault("reconnect_delay", 0.05)
    kw.setdefault("connect_timeout", 2.0)
    return SessionConfig(host=sim.host, port=sim.port, **kw)


def message(text: str = "hello", dest: str = "13800138000", **kw) -> Submit:
    kw.setdefault("service_id", "MAS")
    kw.setdefault("src_id", "1069000001")
    kw.setdefault("msg_src", SP)
    return Submit(dest_terminal_ids=(dest,), msg_content=text.encode(), **kw)


@BOTH
def test_submit_is_accepted_and_its_report_arrives(version):
    async def main():
        events = []
        async with (
            Simulator(sim_config(version=version)) as sim,
            Session(client(sim, version=version), on_deliver=events.append) as session,
        ):
            assert session.connected and session.state == "connected"
            resp = await session.submit(message(registered_delivery=1))
            await until(lambda: events)
        return sim, session, resp, events

    sim, session, resp, events = run(main())
    assert resp.result == 0 and unpack_msg_id(resp.msg_id).ismg_id == 1001
    (report,) = events
    assert isinstance(report, Report)
    assert (report.msg_id, report.stat, report.dest) == (resp.msg_id, "DELIVRD", "13800138000")
    assert len(report.submit_time) == len(report.done_time) == 10
    assert sim.deliver_results[report.deliver_msg_id] == 0  # DELIVER_RESP echoed its id
    (received,) = sim.submits
    assert received.version == version and received.submit.src_id == "1069000001"
    assert session.state == "closed"
    assert sim.counters.terminates_received == 1


def test_window_limits_unanswered_submits():
    async def main():
        async with Simulator(sim_config()) as sim:
            sim.faults.response_delay = 0.1
            async with Session(client(sim, window=4)) as session:
                seen = []

                async def watch():
                    while True:
                        seen.append(session.window_in_use)
                        await asyncio.sleep(0.005)

                watcher = asyncio.create_task(watch())
                results = await asyncio.gather(*(session.submit(message()) for _ in range(20)))
                watcher.cancel()
            return results, max(seen), sim

    results, in_use, sim = run(main())
    assert [r.result for r in results] == [0] * 20
    assert in_use == 4
    assert sim.counters.accepted == 20


def test_simulator_never_sees_more_than_the_window():
    async def main():
        async with Simulator(sim_config()) as sim:
            sim.faults.response_delay = 0.1
            session = Session(client(sim, window=3))
            await session.start()
            link = sim.logged_in_links()[0]
            await asyncio.gather(*(session.submit(message()) for _ in range(10)))
            await session.close()
            return link.max_unanswered

    assert run(main()) == 3


def test_result_8_is_retried_with_growing_back_off_until_accepted():
    async def main():
        async with (
            Simulator(sim_config(rate=5)) as sim,
            Session(client(sim)) as session,
        ):
            results = await asyncio.gather(*(session.submit(message()) for _ in range(12)))
            return results, session.counters, sim.counters

    results, counters, sim_counters = run(main())
    assert [r.result for r in results] == [0] * 12
    assert counters.flow_controlled > 0 and counters.accepted == 12
    assert sim_counters.accepted == 12  # refused SUBMITs were not counted


def test_result_8_back_off_starts_at_100_ms_and_doubles():
    async def main():
        async with Simulator(sim_config()) as sim:
            sim.faults.submit_result = 8
            async with Session(client(sim, flow_control_retries=2)) as session:
                started = time.monotonic()
                resp = await session.submit(message())
                elapsed = time.monotonic() - started
            return resp, elapsed, sim.counters.submits

    resp, elapsed, submits = run(main())
    assert resp.result == 8 and submits == 3
    assert elapsed >= 0.1 + 0.2 - 0.01


def test_other_results_are_final():
    async def main():
        async with Simulator(sim_config()) as sim:
            sim.faults.submit_result = 13
            async with Session(client(sim)) as session:
                resp = await session.submit(message())
            return resp, sim.counters.submits, session.counters.rejected

    resp, submits, rejected = run(main())
    assert (resp.result, submits, rejected) == (13, 1, 1)


def test_group_submit_gets_consecutive_msg_ids_and_one_report_each():
    async def main():
        events = []
        async with (
            Simulator(sim_config(rate=100)) as sim,
            Session(client(sim), on_deliver=events.append) as session,
        ):
            dests = ("13800000001", "13800000002", "13800000003")
            resp = await session.submit(
                Submit(dest_terminal_ids=dests, msg_content=b"hi", registered_delivery=1)
            )
            await until(lambda: len(events) == 3)
            return resp, events

    resp, events = run(main())
    assert resp.result == 0
    assert sorted((e.msg_id, e.dest) for e in events) == [
        (resp.msg_id + i, f"1380000000{i + 1}") for i in range(3)
    ]


def test_active_test_both_ways():
    async def main():
        async with Simulator(sim_config()) as sim:
            config = client(sim, active_test_interval=0.05, response_timeout=1.0)
            async with Session(config) as session:
                await until(lambda: session.counters.active_tests_answered >= 2)
                answered = await sim.active_test()
                rtt = await session.active_test()
                return answered, rtt, session, sim.counters

    answered, rtt, session, sim_counters = run(main())
    assert answered == 1 and session.counters.active_tests_received == 1
    assert rtt >= 0 and sim_counters.active_tests_received >= 3
    assert session.last_active_test_answered is not None


def test_a_dead_link_is_detected_after_n_unanswered_probes_and_replaced():
    async def main():
        async with Simulator(sim_config()) as sim:
            sim.faults.ignore_active_test = True
            config = client(sim, active_test_interval=0.05, response_timeout=0.05, max_attempts=3)
            async with Session(config) as session:
                await until(lambda: session.counters.dead_links >= 1)
                probes = sim.counters.active_tests_received
                sim.faults.ignore_active_test = False
                await until(lambda: session.counters.logins >= 2 and session.connected)
                resp = await session.submit(message())
            return probes, resp

    probes, resp = run(main())
    assert probes >= 3 and resp.result == 0


def test_dropped_link_is_reestablished_and_unanswered_submits_resent():
    async def main():
        async with Simulator(sim_config()) as sim:
            sim.faults.drop_after_submits = 5
            async with Session(client(sim)) as session:
                results = await asyncio.gather(*(session.submit(message()) for _ in range(20)))
            return results, session.counters, sim.counters

    results, counters, sim_counters = run(main())
    assert [r.result for r in results] == [0] * 20
    assert counters.logins == 2 and counters.link_losses == 1
    assert counters.resent_after_link_loss >= 1
    assert sim_counters.accepted >= 20  # answers lost with the link mean duplicates


def test_unanswered_request_is_resent_after_t_and_given_up_after_n():
    async def main():
        async with Simulator(sim_config()) as sim:
            sim.faults.mute = True
            config = client(sim, response_timeout=0.05, max_attempts=3, active_test_interval=60)
            async with Session(config) as session:
                with pytest.raises(SubmitTimeoutError):
                    await session.submit(message())
                assert session.counters.response_timeouts == 3
            return sim.counters.submits

    assert run(main()) == 3


def test_close_sends_terminate_and_later_submits_fail():
    async def main():
        async with Simulator(sim_config()) as sim:
            session = Session(client(sim))
            await session.start()
            await session.close()
            with pytest.raises(SessionClosedError):
                await session.submit(message())
            await until(lambda: not sim.links)
            return sim.counters.terminates_received, session.state

    assert run(main()) == (1, "closed")


def test_gateway_terminate_is_answered_and_the_session_reconnects():
    async def main():
        async with (
            Simulator(sim_config()) as sim,
            Session(client(sim)) as session,
        ):
            await sim.terminate_links()
            await until(lambda: session.counters.logins == 2 and session.connected)
            resp = await session.submit(message())
            return resp

    assert run(main()).result == 0


@BOTH
def test_long_mo_is_reassembled_and_every_segment_acknowledged(version):
    text = "你好，这是一条很长的上行短信。" * 10

    async def main():
        events = []
        async with (
            Simulator(sim_config(version=version)) as sim,
            Session(client(sim, version=version), on_deliver=events.append),
        ):
            results = await sim.send_mo("13800138000", "106900011", text)
            results += await sim.send_mo("13900139000", "1069", text, udh16=True, udhi_flag=0x40)
            await until(lambda: len(events) == 2)
        return results, events

    results, events = run(main())
    assert results == [0] * 6
    assert all(isinstance(e, MoMessage) for e in events)
    assert [(e.src, e.dest, e.text, e.parts) for e in events] == [
        ("13800138000", "106900011", text, 3),
        ("13900139000", "1069", text, 3),
    ]


def test_async_callback_is_awaited_before_deliver_resp_and_failures_answer_9():
    async def main():
        order = []

        async def on_deliver(event):
            await asyncio.sleep(0.05)
            order.append(event.text)
            if event.text == "boom":
                raise RuntimeError("storage down")

        async with (
            Simulator(sim_config()) as sim,
            Session(client(sim), on_deliver=on_deliver),
        ):
            ok = await sim.send_mo("13800138000", "1069", "fine")
            bad = await sim.send_mo("13800138000", "1069", "boom")
        return ok, bad, order

    assert run(main()) == ([0], [9], ["fine", "boom"])


@pytest.mark.parametrize(
    ("sp_id", "secret", "sim_version", "status"),
    [
        ("999999", SECRET, Version.V30, 2),
        (SP, "wrong", Version.V30, 3),
        (SP, SECRET, Version.V20, 4),
    ],
)
def test_refused_logins_are_final_and_the_link_is_closed(sp_id, secret, sim_version, status):
    async def main():
        async with Simulator(sim_config(version=sim_version)) as sim:
            session = Session(client(sim, sp_id=sp_id, secret=secret, version=Version.V30))
            with pytest.raises(LoginRefusedError) as caught:
                await session.start()
            await until(lambda: not sim.links)
            return caught.value.status, session.state, sim.counters.logins_refused

    assert run(main()) == (status, "failed", 1)


def test_injected_login_refusal():
    async def main():
        async with Simulator(sim_config()) as sim:
            sim.faults.refuse_login = 5
            with pytest.raises(LoginRefusedError) as caught:
                await Session(client(sim)).start()
            return caught.value.status

    assert run(main()) == 5


def test_account_secret_may_contain_colons_and_links_may_be_parallel():
    async def main():
        async with Simulator(sim_config()) as sim:
            config = client(sim, sp_id="900002", secret="other:secret")
            async with Session(config) as a, Session(config) as b:
                await asyncio.gather(a.submit(message()), b.submit(message()))
                return len(sim.logged_in_links("900002"))

    assert Account.parse("900002:other:secret") == Account("900002", "other:secret")
    assert run(main()) == 2


def test_rate_is_per_account_across_links():
    async def main():
        async with Simulator(sim_config(rate=4, accounts=(Account(SP, SECRET),))) as sim:
            config = client(sim, flow_control_retries=0)
            async with Session(config) as a, Session(config) as b:
                results = await asyncio.gather(
                    *(s.submit(message()) for s in (a, b) for _ in range(4))
                )
        return sorted(r.result for r in results)

    assert run(main()) == [0, 0, 0, 0, 8, 8, 8, 8]


def test_client_rate_limit_avoids_result_8():
    async def main():
        async with (
            Simulator(sim_config(rate=40)) as sim,
            Session(client(sim, rate=40, flow_control_retries=0)) as session,
        ):
            results = await asyncio.gather(*(session.submit(message()) for _ in range(60)))
        return [r.result for r in results], session.counters.flow_controlled

    results, flow_controlled = run(main())
    assert results == [0] * 60 and flow_controlled == 0


def test_malformed_pdu_from_the_gateway_closes_the_link_cleanly():
    async def main():
        async with (
            Simulator(sim_config()) as sim,
            Session(client(sim)) as session,
        ):
            sim.logged_in_links()[0].transport.write(b"\xff\xff\xff\xff" + bytes(8))
            await until(lambda: session.counters.logins == 2 and session.connected)
            resp = await session.submit(message())
            return session.counters.protocol_errors, resp.result

    assert run(main()) == (1, 0)


def test_malformed_pdu_from_an_sp_closes_that_link_only():
    async def main():
        async with (
            Simulator(sim_config()) as sim,
            Session(client(sim)) as session,
        ):
            reader, writer = await asyncio.open_connection(sim.host, sim.port)
            writer.write(b"\x00\x00\x00\x10\x00\x00\x00\x01" + bytes(8))  # short CONNECT
            assert await reader.read() == b""
            writer.close()
            resp = await session.submit(message())
            return sim.counters.protocol_errors, resp.result

    assert run(main()) == (1, 0)


def test_query_and_cancel_go_through_the_window():
    async def main():
        async with (
            Simulator(sim_config(dlr_delay=5)) as sim,
            Session(client(sim)) as session,
        ):
            resp = await session.submit(message(registered_delivery=1))
            query = await session.request(Query("20261125"))
            cancelled = await session.request(Cancel(resp.msg_id))
            again = await session.request(Cancel(resp.msg_id))
            return query, cancelled, again

    query, cancelled, again = run(main())
    assert isinstance(query, QueryResp) and query.mt_tlmsg == 1
    assert (cancelled, again) == (CancelResp(0), CancelResp(1))


def test_link_state_is_visible_for_operations_pages():
    async def main():
        states = []
        async with Simulator(sim_config()) as sim:
            session = Session(client(sim), on_state=states.append)
            assert (session.connected, session.window_in_use, session.window) == (False, 0, 16)
            await session.start()
            snapshot = (session.connected, session.link_peer, session.last_received is not None)
            await session.close()
        return states, snapshot

    states, snapshot = run(main())
    assert states == ["connecting", "connected", "closing", "closed"]
    assert snapshot[0] and snapshot[1].startswith("127.0.0.1:") and snapshot[2]


def test_reports_are_held_for_a_reconnecting_account():
    async def main():
        events = []
        async with (
            Simulator(sim_config(dlr_delay=0.1)) as sim,
            Session(client(sim, reconnect_delay=0.3), on_deliver=events.append) as s,
        ):
            resp = await s.submit(message(registered_delivery=1))
            sim.drop_links()
            await until(lambda: events, timeout=3)
        return resp, events

    resp, events = run(main())
    assert [e.msg_id for e in events] == [resp.msg_id]


def test_dlr_fail_ratio_is_repeatable_with_a_seed():
    async def stats(seed):
        events = []
        async with (
            Simulator(sim_config(dlr_fail_ratio=0.5, seed=seed)) as sim,
            Session(client(sim), on_deliver=events.append) as session,
        ):
            for i in range(20):
                await session.submit(message(dest=f"1380000{i:04d}", registered_delivery=1))
            await until(lambda: len(events) == 20)
        return [e.stat for e in sorted(events, key=lambda e: e.dest)]

    first = run(stats(7))
    assert first == run(stats(7))
    assert set(first) == {"DELIVRD", "UNDELIV"}


def test_a_flapping_link_is_reconnected_with_growing_back_off():
    async def main():
        logins = []
        async with Simulator(sim_config()) as sim:
            config = client(sim, reconnect_delay=0.05, reconnect_max_delay=5.0)
            async with Session(config) as session:
                while len(logins) < 4:
                    await until(lambda: session.connected)
                    logins.append(time.monotonic())
                    sim.drop_links()
                    await until(lambda: not session.connected)
        return [b - a for a, b in itertools.pairwise(logins)]

    gaps = run(main())
    assert [g >= floor for g, floor in zip(gaps, (0.05, 0.1, 0.2), strict=True)] == [True] * 3


def test_a_group_submit_counts_as_n_against_the_rate():
    async def main():
        async with (
            Simulator(sim_config(rate=3, accounts=(Account(SP, SECRET),))) as sim,
            Session(client(sim, flow_control_retries=0)) as session,
        ):
            group = Submit(dest_terminal_ids=("1", "2", "3"), msg_content=b"hi")
            first = await session.submit(group)
            second = await session.submit(message())
        return first.result, second.result, sim.counters.accepted

    assert run(main()) == (0, 8, 3)


def test_a_value_that_does_not_fit_fails_that_submit_only():
    async def main():
        async with Simulator(sim_config()) as sim, Session(client(sim)) as session:
            with pytest.raises(ProtocolError):
                await session.submit(message(dest="1" * 33))
            return (await session.submit(message())).result, session.window_in_use

    assert run(main()) == (0, 0)


def test_without_reconnect_a_lost_link_fails_the_session():
    async def main():
        async with Simulator(sim_config()) as sim:
            session = Session(client(sim, reconnect=False))
            await session.start()
            await sim.wait_logged_in(1)
            sim.drop_links()
            await until(lambda: session.state == "failed")
            with pytest.raises(SessionClosedError):
                await session.submit(message())
            return type(session.failure)

    assert run(main()) is SessionClosedError
