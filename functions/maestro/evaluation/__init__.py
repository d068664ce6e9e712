"""Walk-forward evaluation of allocation policies on a user's own journal
(`python -m maestro evaluate`): would this policy have helped, out of sample?

policies.py reads the named engine configs and their execution rules (and adds the two
baselines); calendar.py turns the journal into each agent's daily returns; execution.py holds
the rules that turn a target into held weights; replay.py replays every policy day by day, the
engine seeing only the trades closed by then; metrics.py scores each policy's daily series and
deflates the best Sharpe for the number of policies tried; report.py prints them.
Pure, like the engine: no Firebase, no float.
"""
