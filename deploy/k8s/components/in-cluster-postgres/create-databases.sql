-- One database per service; each service migrates its own schema at start.
CREATE DATABASE baobei_registry;
CREATE DATABASE baobei_approval;
CREATE DATABASE baobei_tasks;
CREATE DATABASE baobei_reporting;
CREATE DATABASE baobei_notify;
