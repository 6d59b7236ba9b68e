DROP TABLE cash_handovers;
