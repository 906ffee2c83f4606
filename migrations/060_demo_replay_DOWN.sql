DROP TABLE IF EXISTS demo_replay;
